package databases

import (
	"database/sql/driver"
	"fmt"
	"github.com/go-databases/databases/internal/dsn"
	"io"
	"log/slog"
	"reflect"
)

// RedactURL returns the database URL with whatever could be credentials
// replaced by "***":
//
//   - the user info: everything between "://" (the start, in a DSN without a
//     scheme, such as user:pass@tcp(host)/db) and the last '@', except a
//     leading user name followed by ':'. A user name that contains '/', '?'
//     or '#' is masked too, since then the user name, the password and the
//     host cannot be told apart;
//   - the value of every query option (a pair after a '?', or after an '&'
//     that follows one) whose name, percent-decoded and in any case, names a
//     secret: password, sslpassword, passwd, pwd, token, ..., and
//     misspellings such as pasword (any name with pass, pw, word, secret
//     or token in it)
//
// It works on malformed URLs too, so that error messages can quote them: in
// postgres://app:Zx9/Qp2@db/shop the unescaped '/' makes "Zx9/Qp2" look like
// a host and a path, and the result is postgres://app:***@db/shop. A SQLite
// URL with an empty authority (sqlite:///path) has no user info: an '@' in
// its file path is kept.
func RedactURL(raw string) string { return dsn.RedactURL(raw) }

// Printing values that hold a URL or the real driver's configuration.
//
// fmt reaches unexported fields by reflection, where no String or Format
// method is called: a *sql.DB printed with %s prints the fields of its
// connector, and so on one pointer deep. So the connector and the
// connection, the values a user can hold, format themselves, and a
// connector keeps what could hold a password behind pointers, which
// reflection prints as addresses: its config, and the real connector,
// boxed when it is a value (pgx's holds its whole configuration).

// String describes the connector by its masked URL. The connector holds the
// real driver's configuration (pgx's includes the password), so every way
// of printing it goes through here: Format for fmt's verbs, LogValue for
// log/slog.
func (c *connector) String() string {
	return "databases.Connector(" + c.cfg.Redacted + ")"
}

// Format prints String for every verb, %#v and %+v included.
func (c *connector) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	f.Write([]byte(c.String()))
}

// LogValue logs the connector as its dialect and masked URL.
func (c *connector) LogValue() slog.Value {
	return slog.GroupValue(slog.String("dialect", c.cfg.Dialect.Name), slog.String("url", c.cfg.Redacted))
}

// String describes the connection by its number and its connector's masked
// URL.
func (c *conn) String() string {
	return fmt.Sprintf("databases.Conn(%d, %s)", c.id, c.connector.cfg.Redacted)
}

// Format prints String for every verb: the real connection (pgx's holds its
// configuration) is never printed.
func (c *conn) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	f.Write([]byte(c.String()))
}

// boxConnector returns raw behind a pointer when it is not one already.
func boxConnector(raw driver.Connector) driver.Connector {
	if reflect.ValueOf(raw).Kind() == reflect.Pointer {
		return raw
	}
	if _, ok := raw.(io.Closer); ok {
		return &boxedClosingConnector{raw}
	}
	return &boxedConnector{raw}
}

type boxedConnector struct{ driver.Connector }

type boxedClosingConnector struct{ driver.Connector }

func (b *boxedClosingConnector) Close() error { return b.Connector.(io.Closer).Close() }
