package rewrite

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// parseActionYAML reads a local action's metadata. A composite action's
// steps become the steps of a single job named after its directory; other
// actions keep their name and description in Name.
func parseActionYAML(p string, data []byte) (*Workflow, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: does not parse as YAML: %w", p, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: top level is not a mapping", p)
	}
	w := &walker{}
	root := doc.Content[0]
	wf := &Workflow{Path: p, Root: root}
	_, name, err := w.mapGet(root, "name")
	if err != nil {
		return nil, err
	}
	_, desc, err := w.mapGet(root, "description")
	if err != nil {
		return nil, err
	}
	wf.Name = scalar(name) + " " + scalar(desc)
	_, runs, err := w.mapGet(root, "runs")
	if err != nil {
		return nil, err
	}
	_, steps, err := w.mapGet(runs, "steps")
	if err != nil {
		return nil, err
	}
	j := &Job{ID: "composite", StepsNode: steps}
	if steps != nil && steps.Kind == yaml.SequenceNode {
		for i, s := range steps.Content {
			s, err := w.deref(s)
			if err != nil {
				return nil, err
			}
			st, err := w.step(i, s)
			if err != nil {
				return nil, err
			}
			j.Steps = append(j.Steps, st)
		}
	}
	wf.Jobs = []*Job{j}
	return wf, nil
}
