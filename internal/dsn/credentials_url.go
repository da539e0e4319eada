package dsn

// The URL option password_file, as the URL parser reads it: the path of a
// file read at each new connection (credentials.go), refused where it
// cannot apply.

import "fmt"

// setPasswordFile reads the password_file option: the path of a file whose
// content, less a final newline, is the password of each new connection.
func setPasswordFile(p *urlParse, v string) error {
	if v == "" {
		return fmt.Errorf("empty path")
	}
	p.cfg.PasswordFile = v
	return nil
}

// checkPasswordFile refuses password_file where it cannot apply: on
// SQLite, and beside a password in the URL (user:password@ or, for pgx,
// password=), since then the URL would say two things.
func (p *urlParse) checkPasswordFile(hasPassword bool) error {
	key, ok := p.seen["password_file"]
	switch {
	case !ok:
		return nil
	case p.cfg.Dialect == SQLite:
		return fmt.Errorf("option %s: SQLite has no user or password; it opens a file", key)
	case hasPassword:
		return fmt.Errorf("option %s: the URL also gives a password (user:password@); give one or the other", key)
	case p.hasParam("password"):
		return fmt.Errorf("option %s: the URL also gives option password; give one or the other", key)
	}
	return nil
}
