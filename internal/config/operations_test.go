package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOperations(t *testing.T) {
	t.Parallel()
	src := `
[[schedule.job]]
name = "nightly"
spec = "CRON_TZ=Europe/Berlin 0 3 * * *"
run = "sweep"

[[schedule.job]]
name = "status"
spec = "@hourly"
run = "status"

[sweep]
age_days = 45
webhook_url = "https://hooks.invalid/services/T000/B000/XXXX"

[lint]
require_environment = true

[[lint.ignore]]
rule = "token-publish"
path = ".github/workflows/mirror.yml"
reason = "mirror keeps its token"
`
	got, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Job{{Name: "nightly", Spec: "CRON_TZ=Europe/Berlin 0 3 * * *", Run: "sweep"}, {Name: "status", Spec: "@hourly", Run: "status"}}
	if diff := cmp.Diff(want, got.Schedule.Job); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]LintIgnore{{Rule: "token-publish", Path: ".github/workflows/mirror.yml", Reason: "mirror keeps its token"}}, got.Lint.Ignore); diff != "" {
		t.Errorf("lint.ignore (-want +got):\n%s", diff)
	}
	if got.Sweep.AgeDays != 45 || got.Sweep.ExpiryDays != 14 || !got.Lint.RequireEnvironment {
		t.Errorf("sweep/lint = %+v %+v", got.Sweep, got.Lint)
	}
}

func TestValidateOperations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no name", func(c *Config) { c.Schedule.Job = []Job{{Spec: "@daily", Run: "sweep"}} }, "schedule.job: job 1 has no name"},
		{"twice", func(c *Config) {
			c.Schedule.Job = []Job{{Name: "a", Spec: "@daily", Run: "sweep"}, {Name: "a", Spec: "@daily", Run: "status"}}
		}, `job "a" is defined twice`},
		{"no spec", func(c *Config) { c.Schedule.Job = []Job{{Name: "a", Run: "sweep"}} }, `job "a" has no spec`},
		{"bad run", func(c *Config) { c.Schedule.Job = []Job{{Name: "a", Spec: "@daily", Run: "deploy"}} }, `job "a": run "deploy" is not a job kind`},
		{"age", func(c *Config) { c.Sweep.AgeDays = -1 }, "sweep.age_days"},
		{"escalate order", func(c *Config) { c.Sweep.EscalateDays = []int{3, 7} }, "sweep.escalate_days"},
		{"escalate beyond expiry", func(c *Config) { c.Sweep.EscalateDays = []int{20} }, "sweep.escalate_days"},
		{"webhook", func(c *Config) { c.Sweep.WebhookURL = "hooks.invalid/T000/SECRETPATH" }, "sweep.webhook_url: is not an absolute http(s) URL"},
		{"ignore without reason", func(c *Config) { c.Lint.Ignore = []LintIgnore{{Rule: "token-publish", Path: "a.yml"}} }, "lint.ignore: entry 1 (token-publish on a.yml) has no reason"},
		{"ignore without rule", func(c *Config) { c.Lint.Ignore = []LintIgnore{{Path: "a.yml", Reason: "r"}} }, "lint.ignore: entry 1 has no rule"},
		{"ignore bad pattern", func(c *Config) { c.Lint.Ignore = []LintIgnore{{Rule: "*", Path: "[", Reason: "r"}} }, `lint.ignore: entry 1: path "[" is not a valid pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.modify(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRETPATH") {
				t.Errorf("the webhook URL reached the error: %v", err)
			}
		})
	}
}
