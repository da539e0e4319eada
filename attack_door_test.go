package databases_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
)

// atkSecrets are the forms of the password p/?#@%x that no error may show.
var atkSecrets = []string{"p/?#@%x", "p%2F%3F%23%40%25x", "%2F%3F%23%40%25x"}

func atkNoSecret(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range atkSecrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%s: the error shows the password (%q): %v", what, s, err)
		}
	}
}

func atkURL(t *testing.T, raw, name, value string) string {
	t.Helper()
	u, err := databases.URLWithOption(raw, name, value)
	if err != nil {
		t.Fatalf("URLWithOption(%q, %q, %q): %v", raw, name, value, err)
	}
	return u
}

// TestAttackDoorURLWithOptionSpace: a value with a space, '+', '&', '=',
// '%' and ';' reaches the server as written (it came back as "a+b" on
// PostgreSQL: the space was encoded as '+', which pgx keeps).
func TestAttackDoorURLWithOptionSpace(t *testing.T) {
	b := dbtest.Backends()[1]
	b.Require(t)
	ctx := context.Background()
	const want = "a&b=c d %+x; é"
	db, err := databases.Open(atkURL(t, b.URL, "application_name", want))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRowContext(ctx, "SHOW application_name").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want && got != strings.ReplaceAll(want, "é", "??") {
		t.Errorf("application_name = %q, want %q", got, want)
	}
	// Replacing: the new value, once.
	u := atkURL(t, b.URL+"&application_name=old", "application_name", "new one")
	if strings.Count(u, "application_name") != 1 {
		t.Errorf("%s", u)
	}
	db2, err := databases.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.QueryRowContext(ctx, "SHOW application_name").Scan(&got); err != nil || got != "new one" {
		t.Errorf("application_name = %q, %v; want %q", got, err, "new one")
	}
}

// TestAttackDoorURLWithOptionDriverRejects: "Both raw and the result must be
// URLs that Open accepts: an error says what is wrong": a value the real
// driver refuses at Open is an error of URLWithOption too, without the
// password.
func TestAttackDoorURLWithOptionDriverRejects(t *testing.T) {
	for _, c := range []struct{ raw, name, value string }{
		{"postgres://app:p%2F%3F%23%40%25x@127.0.0.1:5432/db?sslmode=disable", "sslmode", "nonsense"},
		{"mysql://root:p%2F%3F%23%40%25x@127.0.0.1:3306/db", "parseTime", "maybe"},
	} {
		u, err := databases.URLWithOption(c.raw, c.name, c.value)
		if _, oerr := databases.Open(u); err == nil && oerr != nil {
			t.Errorf("URLWithOption(%s=%s) = %q, nil; Open refuses it: %v", c.name, c.value, u, oerr)
		}
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), c.name) && !strings.Contains(err.Error(), c.value) {
			t.Errorf("the error does not name the option: %v", err)
		}
		atkNoSecret(t, c.name, err)
	}
}

// TestAttackDoorURLWithOptionForms (held): every URL form of the README,
// with an option added, opens and answers; options come back as written.
func TestAttackDoorURLWithOptionForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	pg, my := dbtest.Backends()[1], dbtest.Backends()[2]
	forms := []struct{ raw, name, value, q, want string }{
		{"sqlite:///rel.db", "_pragma", "busy_timeout(1234)", "PRAGMA busy_timeout", "1234"},
		{"sqlite:///" + filepath.Join(dir, "abs x.db") + "?_pragma=foreign_keys(1)", "_pragma", "busy_timeout(1234)", "PRAGMA busy_timeout", "1234"},
		{"sqlite:///:memory:?_txlock=deferred", "txlock", "exclusive", "SELECT 'm'", "m"},
		{"sqlite+sqlite:///:memory:", "log", "off", "SELECT 's'", "s"},
	}
	if pg.URL != "" {
		db := strings.TrimPrefix(pg.URL[strings.LastIndex(pg.URL[:strings.Index(pg.URL+"?", "?")], "/"):], "/")
		db = db[:strings.Index(db+"?", "?")]
		forms = append(forms,
			struct{ raw, name, value, q, want string }{"postgres://postgres@127.0.0.1:1,127.0.0.1:5432/" + db + "?sslmode=disable&connect_timeout=2", "application_name", "hosts", "SHOW application_name", "hosts"},
			struct{ raw, name, value, q, want string }{"postgres:///" + db + "?host=/var/run/postgresql&user=postgres", "application_name", "sock", "SHOW application_name", "sock"},
			struct{ raw, name, value, q, want string }{"postgresql+pgx://postgres@127.0.0.1:5432/" + db + "?sslmode=disable", "search_path", `"My Sch",public`, "SHOW search_path", `"My Sch",public`},
		)
	}
	if my.URL != "" {
		db := strings.TrimPrefix(my.URL[strings.LastIndex(my.URL[:strings.Index(my.URL+"?", "?")], "/"):], "/")
		db = db[:strings.Index(db+"?", "?")]
		forms = append(forms,
			struct{ raw, name, value, q, want string }{"mysql://root@/" + db + "?unix_socket=/run/mysqld/mysqld.sock", "parseTime", "true", "SELECT DATABASE()", db},
			struct{ raw, name, value, q, want string }{"mariadb://root@127.0.0.1:1,127.0.0.1/" + db + "?connect_timeout=2", "sql_mode", "'ANSI_QUOTES'", "SELECT @@sql_mode", "ANSI_QUOTES"},
			struct{ raw, name, value, q, want string }{"mysql://root@127.0.0.1:3306/" + db, "time_zone", "'+02:00'", "SELECT @@time_zone", "+02:00"},
		)
	}
	for _, f := range forms {
		u := atkURL(t, f.raw, f.name, f.value)
		db, err := databases.Open(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		var got string
		if err := db.QueryRowContext(ctx, f.q).Scan(&got); err != nil || got != f.want {
			t.Errorf("%s: %s = %q, %v; want %q", u, f.q, got, err, f.want)
		}
		db.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "rel.db")); err != nil {
		t.Errorf("sqlite:///rel.db is not relative to the working directory: %v", err)
	}
	// An alias is replaced, and the pool option applies.
	u := atkURL(t, "sqlite:///:memory:?max_size=3", "max_open_conns", "5")
	db, err := databases.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	if n := db.Stats().MaxOpenConnections; n != 5 || strings.Contains(u, "max_size") {
		t.Errorf("%s: MaxOpenConnections %d", u, n)
	}
	db.Close()
}

// TestAttackDoorURLWithOptionSecrets (held): no error of URLWithOption, of
// Open or of the first query shows a password with / ? # @ %.
func TestAttackDoorURLWithOptionSecrets(t *testing.T) {
	dbtest.Backends()[1].Require(t)
	dbtest.Backends()[2].Require(t)
	ctx := context.Background()
	for _, raw := range []string{
		"mysql://root:p%2F%3F%23%40%25x@127.0.0.1:3306/test_atk_door",
		"postgres://nouser:p%2F%3F%23%40%25x@127.0.0.1:5432/test_atk_door?sslmode=disable",
		"postgres://postgres:p%2F%3F%23%40%25x@127.0.0.1:1/test_atk_door?sslmode=disable",
	} {
		for _, o := range [][2]string{{"force_rollback", "true"}, {"force_rollback", "maybe"}, {"force_rolback", "true"}, {"max_size", "x"}, {"connect_timeout", "1"}} {
			u, err := databases.URLWithOption(raw, o[0], o[1])
			atkNoSecret(t, o[0], err)
			if err != nil {
				continue
			}
			db, err := databases.Open(u)
			atkNoSecret(t, "Open", err)
			if err == nil {
				atkNoSecret(t, "Ping", db.PingContext(ctx))
				db.Close()
			}
		}
		for _, bad := range []string{raw + "#frag", raw + "/x%zz", "postgres+nosuch" + raw[strings.Index(raw, ":"):]} {
			_, err := databases.URLWithOption(bad, "log", "debug")
			if err == nil {
				t.Errorf("%s: no error", databases.RedactURL(bad))
			}
			atkNoSecret(t, bad, err)
		}
	}
}

// TestAttackDoorQuickStart (held): the README's quick start, on each backend.
func TestAttackDoorQuickStart(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		table := dbtest.Name("quickstart_users")
		db, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, name VARCHAR(100))"); err != nil {
			t.Fatal(err)
		}
		defer db.ExecContext(ctx, "DROP TABLE "+table)
		if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, name) VALUES (?, ?), (?, ?)", 1, "Ada", 2, "Grace"); err != nil {
			t.Fatal(err)
		}
		err = databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET name = :name WHERE id = :id",
				sql.Named("id", 1), sql.Named("name", "Ada Lovelace"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var name string
		if err := db.QueryRowContext(ctx, "SELECT name FROM "+table+" WHERE id = ?", 1).Scan(&name); err != nil || name != "Ada Lovelace" {
			t.Fatalf("name %q, %v", name, err)
		}
		rows, err := db.QueryContext(ctx, "SELECT name FROM "+table+" WHERE id IN (?) AND name <> ? ORDER BY id", []int64{1, 2, 3}, "x")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		if strings.Join(names, ",") != "Ada Lovelace,Grace" {
			t.Errorf("IN list: %v", names)
		}
	})
}

// TestAttackDoorForceRollbackURL (held): the README's force_rollback test,
// with the URL from URLWithOption, leaves nothing behind on each backend.
func TestAttackDoorForceRollbackURL(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		if b.Dialect == "sqlite" {
			b.URL = "sqlite:///" + filepath.Join(t.TempDir(), "fr.db")
		}
		ctx := context.Background()
		table := dbtest.Name("atk_fr")
		plain, err := databases.Open(b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		if _, err := plain.ExecContext(ctx, "CREATE TABLE "+table+" (id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		defer plain.ExecContext(ctx, "DROP TABLE "+table)
		db, err := databases.Open(atkURL(t, b.URL, "force_rollback", "true"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run("sub", func(t *testing.T) {
			databases.RollbackAfter(t, db)
			if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" VALUES (?)", 1); err != nil {
				t.Fatal(err)
			}
		})
		if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" VALUES (?)", 2); err != nil {
			t.Fatal(err)
		}
		var n int
		db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		if n != 1 {
			t.Errorf("inside: %d rows, want 1", n)
		}
		db.Close()
		if err := plain.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("after Close: %d rows, %v; want 0", n, err)
		}
	})
}
