package databases

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

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
	if name == "" {
		return "", fmt.Errorf("databases: URLWithOption: empty option name")
	}
	if _, err := parseURL(raw); err != nil {
		return "", err
	}
	head, query, hasQuery := strings.Cut(raw, "?")
	pair := queryEscape(name) + "=" + queryEscape(value)
	var pairs []string
	replaced := false
	if hasQuery {
		for p := range strings.SplitSeq(query, "&") {
			if p == "" {
				continue
			}
			rawKey, _, _ := strings.Cut(p, "=")
			if key, err := url.QueryUnescape(rawKey); err == nil && sameOption(key, name) {
				if !replaced {
					pairs = append(pairs, pair)
					replaced = true
				}
				continue
			}
			pairs = append(pairs, p)
		}
	}
	if !replaced {
		pairs = append(pairs, pair)
	}
	out := head + "?" + strings.Join(pairs, "&")
	cfg, err := parseURL(out)
	if err != nil {
		return "", err // names the option and masks the password
	}
	// What the real driver refuses when the DB is opened (pgx's sslmode,
	// go-sql-driver's parseTime) it refuses here too.
	switch {
	case cfg.driverName == dialectPostgres.defaultDriver:
		if _, err := pgx.ParseConfig(cfg.dsn); err != nil {
			return "", cfg.driverError(err)
		}
	case cfg.driverName == dialectMySQL.defaultDriver && len(cfg.hosts) <= 1:
		if _, err := mysql.ParseDSN(cfg.dsn); err != nil {
			return "", cfg.driverError(err)
		}
	case cfg.driverName != cfg.dialect.defaultDriver:
		if _, err := lookupDriver(cfg); err != nil {
			return "", err // postgres+nosuch://: no driver of that name
		}
	}
	return out, nil
}

// queryEscape percent-encodes s for a query value: as url.QueryEscape, but a
// space is %20, since pgx and modernc read a '+' in an option as itself.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// sameOption reports whether the query keys a and b name one option: the
// same name, or a package option and its alias.
func sameOption(a, b string) bool {
	if a == b {
		return true
	}
	canonical := func(k string) string {
		if o, ok := urlOptions[k]; ok && o.canonical != "" {
			return o.canonical
		}
		return k
	}
	_, known := urlOptions[a]
	return known && canonical(a) == canonical(b)
}
