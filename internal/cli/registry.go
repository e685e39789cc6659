package cli

import (
	"errors"
	"sync"

	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/credentials"
	"github.com/protomod/protomod/internal/registry"
)

// registryClient returns the registry client of this invocation, built once
// from the CLI config (tls.use, protomod.yaml) and the credentials
// (BUF_TOKEN, .netrc).
func (e *env) registryClient() (*registry.Client, error) {
	if e.offline {
		return nil, errors.New("this command needs the registry and cannot run with --offline")
	}
	e.clientOnce.Do(func() {
		cfg, err := clientconfig.Load()
		if err != nil {
			e.clientErr = err
			return
		}
		creds, err := credentials.New()
		if err != nil {
			e.clientErr = err
			return
		}
		e.client = registry.New(registry.Options{
			Config:      cfg,
			Credentials: creds,
			OnWarning: func(reg, warning string) {
				e.warnf("%s: %s", reg, warning)
			},
		})
	})
	return e.client, e.clientErr
}

// clientState is embedded in env.
type clientState struct {
	clientOnce sync.Once
	client     *registry.Client
	clientErr  error
}
