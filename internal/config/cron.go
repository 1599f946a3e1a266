package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// cronParser accepts five-field specs and descriptors (@daily, @every 1h),
// with an optional CRON_TZ= or TZ= prefix. The scheduler and config check
// both parse with it, so a spec config check accepts is one the scheduler
// runs.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCronSpec parses a [[schedule.job]] spec: five fields (minute hour
// day-of-month month day-of-week) or a descriptor such as @daily, with an
// optional CRON_TZ= prefix. A spec without the prefix is read in the time
// zone the schedule's Location gives (the caller sets it; time.Local
// otherwise).
func ParseCronSpec(spec string) (s cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("the spec is empty; want five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily")
	}
	zoned := strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")
	if zoned && !strings.Contains(spec, " ") {
		return nil, fmt.Errorf("%q names a time zone but no schedule after it", spec)
	}
	defer func() {
		// The parser panics on a few malformed inputs; report them as errors.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("malformed spec: %v", r)
		}
	}()
	return cronParser.Parse(spec)
}
