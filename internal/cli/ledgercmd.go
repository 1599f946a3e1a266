package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/ledger"
)

// ledgerExportSchema names the version of cutover ledger export's document.
const ledgerExportSchema = "cutover.ledger-export/v1"

// ledgerExport is the document cutover ledger export writes: the ledger's
// records as plain data, and never a secret (the ledger holds no token
// values, only their keys and displayed prefixes).
type ledgerExport struct {
	Schema              string               `json:"schema"`
	ExportedAt          time.Time            `json:"exported_at"`
	LedgerSchemaVersion int                  `json:"ledger_schema_version"`
	Campaign            ledger.Campaign      `json:"campaign"`
	Repositories        []ledger.RepoState   `json:"repositories"`
	Waves               []ledger.Wave        `json:"waves"`
	Tokens              []ledger.Token       `json:"tokens"`
	Revocations         []ledger.Revocation  `json:"revocations"`
	OrgSecrets          []ledger.Secret      `json:"org_secrets"`
	ScheduleRuns        []ledger.ScheduleRun `json:"schedule_runs"`
	Events              []ledger.Event       `json:"events"`
}

func newLedgerCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Back up or export the campaign ledger",
		Long: `Keep the campaign ledger safe and readable by other tools.

Every command checks the ledger when it opens it (SQLite's quick_check); an
empty, foreign or damaged file stops it with exit code 3 before anything is
written. Restore the last backup then.`,
		Example: example(
			"cutover ledger backup cutover-backup.db",
			"cutover ledger export --out ledger.json",
		),
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(newLedgerBackupCmd(app), newLedgerExportCmd(app))
	return cmd
}

// openExistingLedger opens an existing ledger for a command that only reads.
func (app *App) openExistingLedger(cmd *cobra.Command, path string) (*ledger.Ledger, error) {
	if path == "" {
		path = app.Config.Campaign.Ledger
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no ledger at %q: name it with --ledger or [campaign] ledger", path)
	}
	return ledger.Open(cmd.Context(), path, ledger.Options{Now: app.Now})
}

func newLedgerBackupCmd(app *App) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the ledger to FILE",
		Long: `Write a consistent copy of the ledger to FILE (SQLite's VACUUM INTO): safe
while another cutover command is running on the ledger. FILE must not exist.
To restore, stop every cutover command and copy FILE over the ledger.`,
		Example: example(
			"cutover ledger backup backups/cutover-$(date +%F).db",
			"cutover ledger backup --ledger campaign.db campaign.bak.db",
		),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			led, err := app.openExistingLedger(cmd, path)
			if err != nil {
				return err
			}
			defer led.Close()
			if err := led.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintln(app.Out, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "ledger", "", "campaign ledger `FILE` (default: [campaign] ledger, cutover.db)")
	_ = cmd.MarkFlagFilename("ledger", "db")
	return cmd
}

func newLedgerExportCmd(app *App) *cobra.Command {
	var path, out string
	cmd := &cobra.Command{
		Use:   "export [--out FILE]",
		Short: "Print the ledger as a versioned JSON document",
		Long: `Print the ledger as a JSON document (schema "` + ledgerExportSchema + `"):
the campaign, repositories with everything recorded about each, waves, npm
tokens by key (displayed prefix, name, dates, never a value), revocations,
schedule runs and the event log. cutover preflight --ledger-export reads it.`,
		Example: example(
			"cutover ledger export > ledger.json",
			"cutover ledger export --out ledger.json && cutover preflight --ledger-export ledger.json",
		),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			led, err := app.openExistingLedger(cmd, path)
			if err != nil {
				return err
			}
			defer led.Close()
			snap, err := led.Snapshot(cmd.Context())
			if err != nil {
				return err
			}
			doc := ledgerExport{
				Schema: ledgerExportSchema, ExportedAt: snap.TakenAt, LedgerSchemaVersion: snap.SchemaVersion,
				Campaign: snap.Campaign, Repositories: snap.Repos, Waves: snap.Waves, Tokens: snap.Tokens,
				Revocations: snap.Revocations, OrgSecrets: snap.OrgSecrets, ScheduleRuns: snap.ScheduleRuns, Events: snap.Events,
			}
			b, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			// The ledger never holds a secret; redact all the same, as every output.
			b = []byte(app.Redactor.Redact(string(b)))
			if out == "" {
				_, err = app.Out.Write(b)
				return err
			}
			return writeAtomic(out, b)
		},
	}
	cmd.Flags().StringVar(&path, "ledger", "", "campaign ledger `FILE` (default: [campaign] ledger, cutover.db)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the document to `FILE` instead of stdout")
	_ = cmd.MarkFlagFilename("ledger", "db")
	return cmd
}
