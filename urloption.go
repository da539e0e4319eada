package databases

import "github.com/go-databases/databases/internal/dsn"

// URLWithOption returns the database URL raw with the query option name set
// to value: the pair is added after the options the URL has, or, when the
// URL already gives the option (or an alias of it, such as max_size for
// max_open_conns), put in its place. The value is percent-encoded; every
// other byte of the URL is kept as written, so a SQLite path, a host list,
// an IPv6 host and a percent-encoded password come back unchanged.
//
// It exists because appending "?name=value" to a URL breaks as soon as the
// URL has options of its own (postgres://…?sslmode=disable), which every
// real one does. name may be an option of the package (docs/options.md) or
// one of the real driver (sslmode, parseTime, _pragma). Both raw and the
// result must be URLs that Open accepts: an error says what is wrong with
// either, never quoting a password.
func URLWithOption(raw, name, value string) (string, error) {
	out, cfg, err := dsn.WithOption(raw, name, value)
	if err != nil {
		return "", err
	}
	if cfg.DriverName != cfg.Dialect.DefaultDriver {
		if _, err := lookupDriver(cfg); err != nil {
			return "", err // postgres+nosuch://: no driver of that name
		}
	}
	return out, nil
}
