package databases

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-databases/databases/internal/dsn"
)

// sqliteOpenError names the file a failed SQLite connect was for, and that
// its directory does not exist when that is the cause: SQLite itself says only
// "unable to open database file (14)". The driver's error stays reachable
// with errors.As. It runs on the error path only.
func sqliteOpenError(cfg *dsn.Config, err error) error {
	if cfg.Memory || cfg.Database == "" {
		return err
	}
	dir := filepath.Dir(cfg.Database)
	if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
		return fmt.Errorf("databases: cannot open SQLite database %q: directory %q does not exist: %w", cfg.Database, dir, err)
	}
	return fmt.Errorf("databases: cannot open SQLite database %q: %w", cfg.Database, err)
}
