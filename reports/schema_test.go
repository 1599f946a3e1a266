package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var reportSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	b, err := os.ReadFile(filepath.Join("schema", "report.v1.json"))
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("report.v1.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("report.v1.json")
})

// validate checks r's JSON document against schema/report.v1.json.
func validate(t testing.TB, r *Report) {
	t.Helper()
	sch, err := reportSchema()
	if err != nil {
		t.Fatalf("schema/report.v1.json: %v", err)
	}
	b, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("the report does not match schema/report.v1.json:\n%v", err)
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	cases := map[string]*Report{
		"fixture":   Build(loadSnapshot(t), fixtureMeta()),
		"no links":  Build(loadSnapshot(t), Meta{}),
		"synthetic": Build(synth(1000), fixtureMeta()),
		"seeded":    Build(seededSnapshot(t, loadSnapshot(t)).snap, fixtureMeta()),
		"empty":     Build(nil, Meta{}),
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			validate(t, r)
		})
	}
}

// TestSchemaRejects makes sure the schema is strict: a report with an
// unknown property or a wrong state fails it.
func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	sch, err := reportSchema()
	if err != nil {
		t.Fatal(err)
	}
	good, _ := JSON(Build(loadSnapshot(t), fixtureMeta()))
	for name, edit := range map[string][2]string{
		"unknown property": {`"schema": "cutover.report/v1",`, `"schema": "cutover.report/v1", "extra": 1,`},
		"wrong version":    {`"schema": "cutover.report/v1"`, `"schema": "cutover.report/v2"`},
		"unknown state":    {`"state": "done"`, `"state": "finished"`},
	} {
		t.Run(name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1)
			if bytes.Equal(bad, good) {
				t.Fatalf("%q is not in the report", edit[0])
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
			if err != nil {
				t.Fatal(err)
			}
			if sch.Validate(doc) == nil {
				t.Error("the schema accepts it")
			}
		})
	}
}
