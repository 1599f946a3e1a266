package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// SetWaves records the plan: the waves with their names, gates and members
// in order. Waves not in the plan are removed. A wave that has left
// WavePlanned keeps its state and timestamps, and its members can no
// longer change; removing it is an error too. A repository may be in one
// wave only, and every member must be recorded.
func (l *Ledger) SetWaves(ctx context.Context, waves []Wave) error {
	return l.write(ctx, "record waves", func(t *tx) error {
		have, err := readWaves(t)
		if err != nil {
			return err
		}
		byNumber := map[int]Wave{}
		for _, w := range have {
			byNumber[w.Number] = w
		}
		planned := map[int]bool{}
		member := map[string]int{}
		for _, w := range waves {
			if w.Number < 0 {
				return fmt.Errorf("wave %d: wave numbers start at 0", w.Number)
			}
			if planned[w.Number] {
				return fmt.Errorf("wave %d is planned twice", w.Number)
			}
			planned[w.Number] = true
			for _, r := range w.Members {
				if n, ok := member[r]; ok {
					return fmt.Errorf("repository %q is in waves %d and %d", r, n, w.Number)
				}
				member[r] = w.Number
			}
			if old, ok := byNumber[w.Number]; ok && old.State != WavePlanned && !slices.Equal(old.Members, w.Members) {
				return fmt.Errorf("wave %d is %s: its members cannot change", w.Number, old.State)
			}
		}
		for _, old := range have {
			if !planned[old.Number] && old.State != WavePlanned {
				return fmt.Errorf("wave %d is %s: it cannot be removed from the plan", old.Number, old.State)
			}
		}
		if _, err := t.exec(`DELETE FROM wave_members`); err != nil {
			return err
		}
		for _, old := range have {
			if !planned[old.Number] {
				if _, err := t.exec(`DELETE FROM waves WHERE number = ?`, old.Number); err != nil {
					return err
				}
			}
		}
		for _, w := range waves {
			gate, err := json.Marshal(w.Gate)
			if err != nil {
				return err
			}
			_, err = t.exec(`INSERT INTO waves (number, name, gate) VALUES (?, ?, ?)
				ON CONFLICT (number) DO UPDATE SET name = excluded.name, gate = excluded.gate`,
				w.Number, w.Name, string(gate))
			if err != nil {
				return err
			}
			for i, r := range w.Members {
				if err := requireRepo(t, r); err != nil {
					return fmt.Errorf("wave %d: %w", w.Number, err)
				}
				if _, err := t.exec(`INSERT INTO wave_members (wave, repo, position) VALUES (?, ?, ?)`, w.Number, r, i); err != nil {
					return err
				}
			}
		}
		sizes := make([]int, len(waves))
		for i, w := range waves {
			sizes[i] = len(w.Members)
		}
		_, err = appendEvent(t, Event{Kind: EventWavesPlanned,
			Message: fmt.Sprintf("planned %d waves", len(waves)),
			Data:    eventData(map[string]any{"sizes": sizes})})
		return err
	})
}

// SetWaveState moves wave n to state. Leaving WavePlanned sets Started and
// reaching WaveDone sets Finished (both once). A change of state appends
// an EventWaveState event; setting the state the wave is in does nothing.
// A reason, if given, goes in the event (for example why a gate was forced).
func (l *Ledger) SetWaveState(ctx context.Context, n int, state, reason string) error {
	return l.write(ctx, fmt.Sprintf("set wave %d to %q", n, state), func(t *tx) error {
		switch state {
		case WavePlanned, WaveRunning, WaveGated, WaveDone:
		default:
			return fmt.Errorf("unknown wave state %q", state)
		}
		var old string
		err := t.queryRow(`SELECT state FROM waves WHERE number = ?`, n).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("wave %d: %w", n, ErrNotFound)
		}
		if err != nil || old == state {
			return err
		}
		_, err = t.exec(`UPDATE waves SET state = ?,
				started = CASE WHEN started IS NULL AND ? <> 'planned' THEN ? ELSE started END,
				finished = CASE WHEN finished IS NULL AND ? = 'done' THEN ? ELSE finished END
			WHERE number = ?`,
			state, state, dbTime(t.now), state, dbTime(t.now), n)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("wave %d: %s → %s", n, old, state)
		if reason != "" {
			msg += ": " + reason
		}
		_, err = appendEvent(t, Event{Kind: EventWaveState, Wave: &n, Message: msg,
			Data: eventData(map[string]string{"from": old, "to": state, "reason": reason})})
		return err
	})
}

// Waves returns the plan: every wave with its members, by number.
func (l *Ledger) Waves(ctx context.Context) ([]Wave, error) {
	var out []Wave
	err := l.read(ctx, "read waves", func(r *reader) error {
		var err error
		out, err = readWaves(r)
		return err
	})
	return out, err
}

// Wave returns wave n with its members, or an error wrapping ErrNotFound.
func (l *Ledger) Wave(ctx context.Context, n int) (Wave, error) {
	ws, err := l.Waves(ctx)
	if err != nil {
		return Wave{}, err
	}
	for _, w := range ws {
		if w.Number == n {
			return w, nil
		}
	}
	return Wave{}, fmt.Errorf("could not read wave %d: %w", n, ErrNotFound)
}

// readWaves reads every wave and its members.
func readWaves(q queryer) ([]Wave, error) {
	waves, err := collect(q, func(s rowScanner) (Wave, error) {
		var w Wave
		var gate string
		var started, finished nullTime
		if err := s.Scan(&w.Number, &w.Name, &gate, &w.State, &started, &finished); err != nil {
			return w, err
		}
		if err := json.Unmarshal([]byte(gate), &w.Gate); err != nil {
			return w, fmt.Errorf("gate of wave %d: %w", w.Number, err)
		}
		var err error
		if w.Started, err = started.Time(); err != nil {
			return w, err
		}
		w.Finished, err = finished.Time()
		w.Members = []string{}
		return w, err
	}, `SELECT number, name, gate, state, started, finished FROM waves ORDER BY number`)
	if err != nil {
		return nil, err
	}
	type m struct {
		wave int
		repo string
	}
	members, err := collect(q, func(s rowScanner) (m, error) {
		var v m
		return v, s.Scan(&v.wave, &v.repo)
	}, `SELECT wave, repo FROM wave_members ORDER BY wave, position`)
	if err != nil {
		return nil, err
	}
	idx := map[int]int{}
	for i, w := range waves {
		idx[w.Number] = i
	}
	for _, v := range members {
		if i, ok := idx[v.wave]; ok {
			waves[i].Members = append(waves[i].Members, v.repo)
		}
	}
	return waves, nil
}
