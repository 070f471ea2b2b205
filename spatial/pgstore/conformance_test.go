package pgstore

import (
	"context"
	"testing"

	"citytwin/internal/pgtest"
	"citytwin/spatial"
	"citytwin/spatial/storetest"
)

// TestConformance runs the shared spatial.Store suite, each test on a
// fresh database of the shared cluster; reopening connects again.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) (spatial.Store, func() (spatial.Store, error)) {
			url := pgtest.Start(t)
			s, err := Open(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s, func() (spatial.Store, error) { return Open(context.Background(), url, nil) }
		},
	})
}
