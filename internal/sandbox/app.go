package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// AppID is the id of the GitHub App that InstallApp registers.
const AppID = 4242

// InstalledApp is a GitHub App registered in a World and installed on an
// organisation.
type InstalledApp struct {
	// ID is the App's id.
	ID int64
	// InstallationID is its installation on the organisation.
	InstallationID int64
	// PrivateKeyPEM is the App's private key, PEM-encoded (PKCS #1, as
	// GitHub generates it).
	PrivateKeyPEM []byte
}

// InstallApp registers a GitHub App ("cutover-sandbox") with a new RSA key
// and installs it on org with perms (nil means every permission the
// emulator checks). Its installation tokens live for lifetime; zero means
// an hour, as on GitHub.
func (w *World) InstallApp(org string, perms map[string]string, lifetime time.Duration) (InstalledApp, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return InstalledApp{}, fmt.Errorf("could not generate the GitHub App's key: %w", err)
	}
	if perms == nil {
		perms = ghapi.AllPermissions()
	}
	insts := w.API.AddApp(ghapi.App{ID: AppID, Slug: "cutover-sandbox", PublicKey: &key.PublicKey, TokenLifetime: lifetime},
		ghapi.Installation{Account: org, Permissions: perms})
	return InstalledApp{
		ID: AppID, InstallationID: insts[0].ID,
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}, nil
}
