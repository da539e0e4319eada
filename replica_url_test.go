package databases

import (
	"database/sql"
	"github.com/go-databases/databases/internal/dsn"
	"strings"
	"testing"
)

// TestReplicaBadInput: each bad replica setting is refused when the DB is
// opened, with an error naming the option, and no password in it.
func TestReplicaBadInput(t *testing.T) {
	tests := []struct {
		url  string
		opts []Option
		want []string
	}{
		{url: "sqlite:///:memory:?replicas=r1:5432", want: []string{"option replicas", "SQLite"}},
		{url: "sqlite:///:memory:?read_your_writes=false", want: []string{"option read_your_writes", "SQLite"}},
		{url: "sqlite:///:memory:", opts: []Option{WithReplicas("sqlite:///b.db")}, want: []string{"WithReplicas", "SQLite"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1:5432,,r2", want: []string{"option replicas", "entry 2 is empty"}},
		{url: "postgres://u:hunter2@h/db?replicas=", want: []string{"option replicas", "entry 1 is empty"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1:99999", want: []string{"option replicas", "bad port", "99999"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1:x", want: []string{"option replicas", "bad port"}},
		{url: "postgres://u:hunter2@h/db?replicas=:5433", want: []string{"option replicas", "no host"}},
		{url: "postgres://u:hunter2@h:5432/db?replicas=h", want: []string{"option replicas", "primary h:5432 itself"}},
		{url: "postgres://u:hunter2@h1,h2:6000/db?replicas=H2:6000", want: []string{"option replicas", "primary"}},
		{url: "mysql://root:hunter2@127.0.0.1:3306/test?replicas=127.0.0.1", want: []string{"option replicas", "primary 127.0.0.1:3306 itself"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1,r1:5432", want: []string{"option replicas", "r1:5432 is named twice"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1&read_your_writes=maybe", want: []string{"option read_your_writes", `"maybe"`}},
		{url: "postgres://u:hunter2@h/db?replicas=r1&max_replica_wait=0s", want: []string{"option max_replica_wait"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1&max_replica_lag=soon", want: []string{"option max_replica_lag"}},
		{url: "postgres://u:hunter2@h/db?replicas=r1&replica_fallback=secondary", want: []string{"option replica_fallback", "primary or error"}},
		{url: "postgres://u:hunter2@h/db?replica=r1", want: []string{"did you mean replicas"}},
		{url: "postgres://u:hunter2@h/db", opts: []Option{WithReplicas("mysql://root:hunter2@r1/test")},
			want: []string{"WithReplicas", "mysql", "postgres"}},
		{url: "postgres://u:hunter2@h:5432/db", opts: []Option{WithReplicas("postgres://u:hunter2@h/db")},
			want: []string{"WithReplicas", "primary h:5432 itself"}},
		{url: "postgres://u:hunter2@h:5432/db", opts: []Option{WithReplicas("postgres://u:hunter2@r1/db?replicas=r2")},
			want: []string{"WithReplicas", "replicas of its own"}},
		{url: "postgres://u:hunter2@h:5432/db", opts: []Option{WithReplicas("postgres://u:hunter2@r1/db?sslmode=bogus")},
			want: []string{"sslmode"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := NewConnector(tt.url, tt.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// TestReplicaForceRollback: in force_rollback mode the replicas are not
// used; every call runs in the one transaction on the primary.
func TestReplicaForceRollback(t *testing.T) {
	c, err := newConnector("postgres://u@h/db?replicas=r1&force_rollback=true", &Driver{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.replicas != nil {
		t.Error("force_rollback connector has replicas")
	}
}

// TestReplicaReadReplicaWithoutReplicas: ReadReplica and AfterPosition on
// a DB without replicas run on the one server.
func TestReplicaReadReplicaWithoutReplicas(t *testing.T) {
	db, err := sql.Open("databases", "sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := AfterPosition(ReadReplica(t.Context()), "bm9uc2Vuc2U")
	if _, err := db.ExecContext(ctx, "CREATE TABLE replicas_one (x)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM replicas_one").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if _, err := WritePosition(ctx, db); err == nil || !strings.Contains(err.Error(), "SQLite") {
		t.Errorf("WritePosition on SQLite: %v, want an error naming SQLite", err)
	}
}

// FuzzPositionToken: parse never panics, and what it accepts is a position
// that may be written into a statement as a literal.
func FuzzPositionToken(f *testing.F) {
	f.Add(position{flavorPostgres, "0/16B3748"}.token())
	f.Add(position{flavorMariaDB, "0-1-42,1-2-7"}.token())
	f.Add(position{flavorMySQL, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"}.token())
	f.Add("cGc6MC8x")
	f.Fuzz(func(t *testing.T, token string) {
		for _, pr := range []*positionReader{newPositionReader(dsn.Postgres, backendOf(dsn.Postgres)), newPositionReader(dsn.MySQL, backendOf(dsn.MySQL))} {
			p, err := pr.parse(token)
			if err != nil {
				continue
			}
			if strings.ContainsAny(p.value, "'\\ ;") {
				t.Fatalf("accepted %q", p.value)
			}
		}
	})
}

// TestMayWrite: the statements counted as writes for read-your-writes.
func TestMayWrite(t *testing.T) {
	c := &conn{connector: &connector{cfg: &dsn.Config{Dialect: dsn.Postgres}, backend: postgresBackend{}, mode: ownConns{}}}
	for q, want := range map[string]bool{
		"SELECT 1":                           false,
		"  /* c */ (select x from t)":        false,
		"SHOW search_path":                   false,
		"EXPLAIN SELECT 1":                   false,
		"SET search_path = a":                false,
		"INSERT INTO t VALUES (1)":           true,
		"update t set x = 1":                 true,
		"WITH d AS (DELETE FROM t) SELECT 1": true,
		"SELECT 1; DELETE FROM t":            true,
		"COMMIT":                             true,
		"CALL p()":                           true,
	} {
		if got := c.mayWrite(q); got != want {
			t.Errorf("mayWrite(%q) = %v, want %v", q, got, want)
		}
	}
}
