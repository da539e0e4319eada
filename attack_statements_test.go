package databases

// Attacks on docs/statements.md, docs/statement-cache.md and
// docs/replicas.md: session changes and read-write switches in disguise,
// compared with the raw driver or with what the server holds afterwards.

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
	"github.com/go-databases/databases/internal/dsn"
)

// The attacks run on the servers of the behavioural tests (dbtest), in a
// database of their own, test_atk_agree (and test_atk_agree2 on MySQL,
// which the USE attacks switch to), which TestMain creates.
var (
	saPG     = atkURL("DATABASES_TEST_POSTGRES_URL")
	atkMySQL = atkURL("DATABASES_TEST_MYSQL_URL")
)

// atkURL is the server URL of env with test_atk_agree as its database;
// "" when env is not set.
func atkURL(env string) string {
	u, err := url.Parse(os.Getenv(env))
	if err != nil || u.Host == "" {
		return ""
	}
	u.Path = "/test_atk_agree"
	if u.Scheme == "mysql" && !u.Query().Has("parseTime") {
		q := u.Query()
		q.Set("parseTime", "true")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// atkPort is the port of u, for a replica list naming the primary itself.
func atkPort(u string) string {
	p, _ := url.Parse(u)
	if port := p.Port(); port != "" {
		return port
	}
	if p.Scheme == "mysql" {
		return "3306"
	}
	return "5432"
}

// saServer skips the test (fails it under CI) when the server of u is not
// configured. TestMain has created its database (attackDatabases).
func saServer(t *testing.T, u string) {
	t.Helper()
	dialect := "postgres"
	if u == atkMySQL {
		dialect = "mysql"
	}
	for _, b := range dbtest.Backends() {
		if b.Dialect == dialect {
			b.Require(t)
		}
	}
	db, err := Open(u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatalf("%s: %v", RedactURL(u), err)
	}
}

// atkConfigs are the option sets a sequence runs under, each compared
// with the raw driver.
func atkConfigs(port string) []string {
	return []string{
		"stmt_cache=8",
		"stmt_cache=0",
		"stmt_cache=8&log=debug",
		"stmt_cache=8&replicas=localhost:" + port,
	}
}

// TestAttackStatementsMySQLSessionInDisguise: a statement kept by the
// cache must answer as the raw driver does after a change of sql_mode
// that does not begin with "SET sql_mode".
func TestAttackStatementsMySQLSessionInDisguise(t *testing.T) {
	saServer(t, atkMySQL)
	const pipes = "CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')"
	variants := map[string][]string{
		"user variable first":    {"SET @x = 1, SESSION sql_mode = " + pipes},
		"user variables then @@": {"SET @x := (SELECT 1), @y = 2, @@sql_mode = " + pipes},
		"@@session":              {"SET @@session.sql_mode = " + pipes},
		"@@":                     {"SET @@sql_mode = " + pipes},
		"versioned comment":      {"/*!40101 SET sql_mode = " + pipes + " */"},
		"mariadb comment":        {"/*M!100100 SET sql_mode = " + pipes + " */"},
		"leading comment":        {"/* c */ -- x\n# y\nSET sql_mode = " + pipes},
		"prepare and execute":    {"SET @q = 'SET SESSION sql_mode = CONCAT(@@sql_mode, '',PIPES_AS_CONCAT'')'", "PREPARE atk_s FROM @q", "EXECUTE atk_s"},
		"execute immediate":      {"EXECUTE IMMEDIATE 'SET SESSION sql_mode = CONCAT(@@sql_mode, '',PIPES_AS_CONCAT'')'"},
		"execute immediate var":  {"SET @q = 'SET SESSION sql_mode = CONCAT(@@sql_mode, '',PIPES_AS_CONCAT'')'", "EXECUTE IMMEDIATE @q"},
	}
	for name, change := range variants {
		for _, cfg := range atkConfigs(atkPort(atkMySQL)) {
			t.Run(name+"/"+cfg, func(t *testing.T) {
				db := openCached(t, atkMySQL, cfg)
				raw := openRaw(t, atkMySQL)
				steps := []step{{"SELECT CAST(? || ? AS CHAR)", []any{"a", "b"}}}
				for _, q := range change {
					steps = append(steps, step{"!" + q, nil})
				}
				steps = append(steps, step{"SELECT CAST(? || ? AS CHAR)", []any{"a", "b"}})
				sameAsRaw(t, db, raw, steps)
			})
		}
	}
}

// TestAttackStatementsMySQLUseInDisguise: USE hidden in MySQL's comments
// and behind a prepared statement.
func TestAttackStatementsMySQLUseInDisguise(t *testing.T) {
	saServer(t, atkMySQL)
	raw := openRaw(t, atkMySQL)
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS atk_use (id INT PRIMARY KEY, v VARCHAR(10))",
		"CREATE TABLE IF NOT EXISTS test_atk_agree2.atk_use (id INT PRIMARY KEY, v VARCHAR(10))",
		"REPLACE INTO atk_use VALUES (1, 'first')",
		"REPLACE INTO test_atk_agree2.atk_use VALUES (1, 'other')",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(q, ": ", err)
		}
	}
	for name, use := range map[string]string{
		"versioned comment": "/*!32312 USE test_atk_agree2 */",
		"mariadb comment":   "/*M!100100 USE test_atk_agree2*/",
		"leading comments":  "/* a /* b */ -- c\nUSE test_atk_agree2",
		"quoted":            "USE `test_atk_agree2`",
	} {
		for _, cfg := range atkConfigs(atkPort(atkMySQL)) {
			t.Run(name+"/"+cfg, func(t *testing.T) {
				db := openCached(t, atkMySQL, cfg)
				raw := openRaw(t, atkMySQL)
				sameAsRaw(t, db, raw, []step{
					{"SELECT v FROM atk_use WHERE id = ?", []any{1}},
					{"!" + use, nil},
					{"SELECT v FROM atk_use WHERE id = ?", []any{1}},
				})
			})
		}
	}
}

// atkReplicaWrite opens u with its own server as the replica, one
// connection, runs each statement of change under ReadReplica, then an
// INSERT under ReadReplica, and fails when the INSERT was stored: a write
// that reaches a replica must be refused, and a statement that would make
// the replica session writable must be refused before it reaches it.
func atkReplicaWrite(t *testing.T, u, port, table string, inTx bool, change []string) {
	t.Helper()
	raw := openRaw(t, u)
	if _, err := raw.Exec("DROP TABLE IF EXISTS " + table); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	db := openCached(t, u, "replicas=localhost:"+port)
	ctx := ReadReplica(context.Background())
	var errs []string
	if inTx {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range change {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				errs = append(errs, q+": "+err.Error())
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (1)"); err != nil {
			errs = append(errs, "insert: "+err.Error())
		}
		if err := tx.Commit(); err != nil {
			errs = append(errs, "commit: "+err.Error())
		}
	} else {
		for _, q := range change {
			if _, err := db.ExecContext(ctx, q); err != nil {
				errs = append(errs, q+": "+err.Error())
			}
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (1)"); err != nil {
			errs = append(errs, "insert: "+err.Error())
		}
	}
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("a write under ReadReplica was stored on the replica after %q (errors: %s)", change, strings.Join(errs, "; "))
	}
	t.Logf("refused: %s", strings.Join(errs, "; "))
}

// TestAttackStatementsReplicaWritablePostgres: the replica session made
// writable by statements the reading may not see as such.
func TestAttackStatementsReplicaWritablePostgres(t *testing.T) {
	saServer(t, saPG)
	f := `CREATE OR REPLACE FUNCTION atk_f_rw() RETURNS int LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('default_transaction_read_only', 'off', false); RETURN 1; END$$`
	if _, err := openRaw(t, saPG).Exec(f); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		inTx   bool
		change []string
		known  string
	}{
		"set_config":            {false, []string{"SELECT set_config('default_transaction_read_only', 'off', false)"}, ""},
		"pg_catalog.set_config": {false, []string{"SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)"}, ""},
		"quoted set_config":     {false, []string{`SELECT "set_config"('default_transaction_read_only', 'off', false)`}, ""},
		"upper-case setting":    {false, []string{"SELECT set_config('DEFAULT_TRANSACTION_READ_ONLY', 'off', false)"}, ""},
		"computed setting":      {false, []string{"SELECT set_config('default_transaction_' || 'read_only', 'off', false)"}, ""},
		"split literal":         {false, []string{"SELECT set_config('default_transaction_rea' || 'd_only', 'off', false)"}, ""},
		"reversed literal":      {false, []string{"SELECT set_config(reverse('ylno_daer_noitcasnart_tluafed'), 'off', false)"}, ""},
		"escaped setting":       {false, []string{`SELECT set_config(E'default_transaction_read_onl\x79', 'off', false)`}, ""},
		"from clause":           {false, []string{"SELECT * FROM set_config('default_transaction_read_only', 'off', false)"}, ""},
		"update pg_settings":    {false, []string{"UPDATE pg_settings SET setting = 'off' WHERE name = 'default_transaction_read_only'"}, ""},
		"do block":              {false, []string{"DO $$BEGIN PERFORM set_config('default_transaction_read_only', 'off', false); END$$"}, ""},
		"set to default":        {false, []string{"SET default_transaction_read_only TO DEFAULT"}, ""},
		"reset":                 {false, []string{"RESET default_transaction_read_only"}, ""},
		"characteristics list":  {false, []string{"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE"}, ""},
		"comment inside":        {false, []string{"SET SESSION CHARACTERISTICS AS TRANSACTION READ /* x */ WRITE"}, ""},
		"prepare execute":       {false, []string{"PREPARE atk_p AS SELECT set_config('default_transaction_read_only', 'off', false)", "EXECUTE atk_p"}, ""},
		"tx set_config local":   {true, []string{"SELECT set_config('transaction_read_only', 'off', true)"}, ""},
		"tx set transaction":    {true, []string{"SET TRANSACTION READ WRITE"}, ""},
		"tx set local":          {true, []string{"SET LOCAL transaction_read_only = off"}, ""},
		"quoted name":           {false, []string{`SET "default_transaction_read_only" = off`}, ""},
		"quoted upper name":     {false, []string{`SET SESSION "DEFAULT_TRANSACTION_READ_ONLY" TO off`}, ""},
		"unicode quoted name":   {false, []string{`SET U&"default_transaction_read_onl\0079" = off`}, ""},
		"quoted then commit":    {false, []string{`SET "default_transaction_read_only" = off; COMMIT; INSERT INTO atk_replica_pg (id) VALUES (3)`}, ""},
		"quoted then insert":    {false, []string{`SET "transaction_read_only" = off; INSERT INTO atk_replica_pg (id) VALUES (11)`}, ""},
		"tx quoted name":        {true, []string{`SET "transaction_read_only" = off`}, ""},
		"tx function, commit":   {true, []string{"SELECT atk_f_rw(); COMMIT; INSERT INTO atk_replica_pg (id) VALUES (5)"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if c.known != "" {
				t.Skip(c.known)
			}
			atkReplicaWrite(t, saPG, atkPort(saPG), "atk_replica_pg", c.inTx, c.change)
		})
	}
}

// TestAttackStatementsReplicaWritableMySQL: the same on MariaDB, whose
// root is not bound by read_only, only by the session's READ ONLY.
func TestAttackStatementsReplicaWritableMySQL(t *testing.T) {
	saServer(t, atkMySQL)
	// Stored functions named like read-only built-ins, which make the
	// session writable.
	raw := openRaw(t, atkMySQL)
	for _, f := range []string{
		"CREATE OR REPLACE FUNCTION abs(x INT) RETURNS INT BEGIN SET @@session.tx_read_only = 0; RETURN x; END",
		"CREATE OR REPLACE FUNCTION ifnull(x INT, y INT) RETURNS INT BEGIN SET @@session.tx_read_only = 0; RETURN x; END",
		"CREATE OR REPLACE FUNCTION atk_f_rw() RETURNS INT BEGIN SET @@session.tx_read_only = 0; RETURN 1; END",
	} {
		if _, err := raw.Exec(f); err != nil {
			t.Fatal(f, ": ", err)
		}
	}
	for name, c := range map[string]struct {
		inTx   bool
		change []string
		known  string
	}{
		"user variable first":   {false, []string{"SET @x = 1, SESSION transaction_read_only = 0"}, ""},
		"user variable first2":  {false, []string{"SET @x = 1, SESSION TRANSACTION READ WRITE"}, ""},
		"@@session":             {false, []string{"SET @@session.transaction_read_only = 0"}, ""},
		"@@ tx_read_only":       {false, []string{"SET @@tx_read_only = OFF"}, ""},
		"versioned comment":     {false, []string{"/*!50000 SET SESSION TRANSACTION READ WRITE */"}, ""},
		"mariadb comment":       {false, []string{"/*M!100000 SET SESSION TRANSACTION READ WRITE */"}, ""},
		"isolation and rw":      {false, []string{"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE"}, ""},
		"set statement":         {false, []string{"SET STATEMENT transaction_read_only = 0 FOR INSERT INTO atk_replica_my (id) VALUES (2)"}, ""},
		"prepare execute":       {false, []string{"SET @q = 'SET SESSION TRANSACTION READ WRITE'", "PREPARE atk_p FROM @q", "EXECUTE atk_p"}, ""},
		"execute immediate":     {false, []string{"EXECUTE IMMEDIATE 'SET SESSION TRANSACTION READ WRITE'"}, ""},
		"execute immediate var": {false, []string{"SET @q = 'SET SESSION transaction_read_only = 0'", "EXECUTE IMMEDIATE @q"}, ""},
		"set default":           {false, []string{"SET SESSION transaction_read_only = DEFAULT"}, ""},
		"begin not atomic":      {false, []string{"BEGIN NOT ATOMIC SET SESSION TRANSACTION READ WRITE; END"}, ""},
		"quoted set statement":  {false, []string{"SET STATEMENT `tx_read_only`=0 FOR INSERT INTO atk_replica_my (id) VALUES (2)"}, ""},
		"quoted session":        {false, []string{"SET SESSION `tx_read_only` = 0"}, ""},
		"quoted @@session":      {false, []string{"SET @@session.`tx_read_only` = 0"}, ""},
		"quoted bare":           {false, []string{"SET `TX_READ_ONLY`=0"}, ""},
		"quoted in comment":     {false, []string{"SET /*!40101 @@session.`tx_read_only` = 0 */"}, ""},
		"tx quoted @@session":   {true, []string{"SET @@session.`tx_read_only` = 0"}, ""},
		"qualified abs":         {false, []string{"SELECT test_atk_agree.abs(1)"}, ""},
		"qualified spaced abs":  {false, []string{"SELECT test_atk_agree . /* c */ abs(1)"}, ""},
		"qualified quoted":      {false, []string{"SELECT `test_atk_agree`.`ifnull`(1, 2)"}, ""},
		"tx function, insert":   {true, []string{"SELECT atk_f_rw(); INSERT INTO atk_replica_my (id) VALUES (5)"}, ""},
		"tx function, commit":   {true, []string{"SELECT atk_f_rw(); COMMIT; INSERT INTO atk_replica_my (id) VALUES (6)"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if c.known != "" {
				t.Skip(c.known)
			}
			atkReplicaWrite(t, withQuery(atkMySQL, "multiStatements=true"), atkPort(atkMySQL), "atk_replica_my", c.inTx, c.change)
		})
	}
}

// TestAttackStatementsReplicaThenMore: a text of several statements in
// which a function makes the session writable before a later statement
// writes must not run on a replica, where no check can come between them.
// The replica is the primary server itself, so the INSERT stores the id
// of the session that ran it: it must not be the replica's.
func TestAttackStatementsReplicaThenMore(t *testing.T) {
	for _, c := range []struct {
		name, u, fn, pid string
		texts            []string
	}{
		{"postgres", saPG,
			`CREATE OR REPLACE FUNCTION atk_f_rw() RETURNS int LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('default_transaction_read_only', 'off', false); RETURN 1; END$$`,
			"pg_backend_pid()", []string{
				"SELECT atk_f_rw(); COMMIT; INSERT INTO atk_then_more (id) VALUES ({pid})",
				"SELECT 1; SELECT public.atk_f_rw(); COMMIT; INSERT INTO atk_then_more (id) VALUES ({pid})",
				"SELECT atk_f_rw(); COMMIT; SELECT 1; INSERT INTO atk_then_more (id) VALUES ({pid})",
			}},
		{"mysql", withQuery(atkMySQL, "multiStatements=true"),
			"CREATE OR REPLACE FUNCTION atk_f_rw() RETURNS INT BEGIN SET @@session.tx_read_only = 0; RETURN 1; END",
			"CONNECTION_ID()", []string{
				"SELECT 1; SELECT atk_f_rw(); INSERT INTO atk_then_more (id) VALUES ({pid})",
				"SELECT atk_f_rw(); COMMIT; INSERT INTO atk_then_more (id) VALUES ({pid})",
				"SELECT test_atk_agree.atk_f_rw(); INSERT INTO atk_then_more (id) VALUES ({pid})",
				"SET @x = atk_f_rw(); INSERT INTO atk_then_more (id) VALUES ({pid})",
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "mysql" {
				saServer(t, atkMySQL)
			} else {
				saServer(t, saPG)
			}
			raw := openRaw(t, c.u)
			for _, q := range []string{c.fn, "DROP TABLE IF EXISTS atk_then_more", "CREATE TABLE atk_then_more (id BIGINT PRIMARY KEY)"} {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(q, ": ", err)
				}
			}
			for _, text := range c.texts {
				t.Run(text, func(t *testing.T) {
					if _, err := raw.Exec("DELETE FROM atk_then_more"); err != nil {
						t.Fatal(err)
					}
					db := openCached(t, c.u, "replicas=localhost:"+atkPort(c.u))
					db.SetMaxOpenConns(1) // one replica session
					ctx := ReadReplica(context.Background())
					var replica int64
					if err := db.QueryRowContext(ctx, "SELECT "+c.pid).Scan(&replica); err != nil {
						t.Fatal(err)
					}
					_, err := db.ExecContext(ctx, strings.ReplaceAll(text, "{pid}", c.pid))
					t.Logf("%s: %v", text, err)
					count := "SELECT COUNT(*) FROM atk_then_more WHERE id = ?"
					if c.name == "postgres" {
						count = "SELECT COUNT(*) FROM atk_then_more WHERE id = $1"
					}
					var n int
					if err := raw.QueryRow(count, replica).Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n != 0 {
						t.Fatalf("%s ran on the replica session and stored its write", text)
					}
					if _, err := db.ExecContext(ctx, "INSERT INTO atk_then_more (id) VALUES (-1)"); err == nil {
						t.Errorf("after %s: an INSERT under ReadReplica succeeded", text)
					}
				})
			}
		})
	}
}

// TestAttackStatementsPostgresSession: session changes the cache of
// databases (stmt_cache=8) and pgx's must both follow on PostgreSQL, as
// raw pgx does: a function that sets search_path, SET LOCAL in a
// transaction, RESET ALL, DISCARD ALL and DEALLOCATE ALL.
func TestAttackStatementsPostgresSession(t *testing.T) {
	saServer(t, saPG)
	raw := openRaw(t, saPG)
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS atk_a CASCADE", "DROP SCHEMA IF EXISTS atk_b CASCADE",
		"CREATE SCHEMA atk_a", "CREATE SCHEMA atk_b",
		"CREATE TABLE atk_a.t (id INT PRIMARY KEY, v TEXT)",
		"CREATE TABLE atk_b.t (id INT PRIMARY KEY, v TEXT)",
		"INSERT INTO atk_a.t VALUES (1, 'a')",
		"INSERT INTO atk_b.t VALUES (1, 'b')",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(q, ": ", err)
		}
	}
	sel := step{"SELECT v FROM t WHERE id = ?", []any{1}}
	for name, change := range map[string][]step{
		"set_config":     {{"SELECT set_config('search_path', 'atk_b', false)", nil}},
		"set_config cte": {{"WITH x AS (SELECT set_config('search_path', 'atk_b', false)) SELECT * FROM x", nil}},
		"set local":      {{"!BEGIN", nil}, {"!SET LOCAL search_path = atk_b", nil}, sel, {"!COMMIT", nil}},
		"set_config tx":  {{"!BEGIN", nil}, {"SELECT set_config('search_path', 'atk_b', true)", nil}, sel, {"!ROLLBACK", nil}},
		"reset all":      {{"!RESET ALL", nil}},
		"deallocate all": {{"!DEALLOCATE ALL", nil}},
		"discard plans":  {{"!DISCARD PLANS", nil}},
		"comment":        {{"!/* x */ SET search_path = atk_b", nil}},
		"after ;":        {{"!SELECT 1; SET search_path = atk_b", nil}},
	} {
		for _, cfg := range append(atkConfigs(atkPort(saPG)), "force_rollback=true") {
			t.Run(name+"/"+cfg, func(t *testing.T) {
				if cfg == "force_rollback=true" && change[0].query == "!BEGIN" {
					t.Skip("force_rollback refuses BEGIN, as its README section says")
				}
				db := openCached(t, saPG, cfg)
				raw := openRaw(t, saPG)
				steps := []step{{"!SET search_path = atk_a", nil}, sel, sel}
				steps = append(steps, change...)
				steps = append(steps, sel, sel)
				sameAsRaw(t, db, raw, steps)
			})
		}
	}
}

// TestAttackStatementsSQLiteSession: PRAGMA in its call form, ATTACH and a
// temporary table shadowing a cached statement's table on SQLite.
func TestAttackStatementsSQLiteSession(t *testing.T) {
	for name, change := range map[string][]step{
		"pragma call form": {{"!PRAGMA case_sensitive_like(1)", nil}},
		"pragma comment":   {{"!/* x */ PRAGMA case_sensitive_like = 1", nil}},
		"temp shadow":      {{"!CREATE TEMP TABLE t (id INT PRIMARY KEY, v TEXT)", nil}, {"!INSERT INTO temp.t VALUES (1, 'temp')", nil}},
		"attach":           {{"!ATTACH DATABASE ':memory:' AS aux", nil}, {"!CREATE TABLE aux.u (id INT)", nil}},
		"after ;":          {{"!SELECT 1; PRAGMA case_sensitive_like = 1", nil}},
		"other conn ddl":   nil, // below
	} {
		for _, cfg := range []string{"stmt_cache=8", "stmt_cache=0", "stmt_cache=8&log=debug", "force_rollback=true"} {
			t.Run(name+"/"+cfg, func(t *testing.T) {
				if name == "other conn ddl" && cfg == "force_rollback=true" {
					t.Skip("force_rollback reads in its own transaction, which does not see another connection's later change")
				}
				u := "sqlite:///" + t.TempDir() + "/atk.db"
				setup := openRaw(t, u)
				for _, q := range []string{"CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES (1, 'main')"} {
					if _, err := setup.Exec(q); err != nil {
						t.Fatal(err)
					}
				}
				setup.Close()
				raw := openRaw(t, u)
				db := openCached(t, u, cfg)
				steps := []step{
					{"SELECT * FROM t WHERE id = ?", []any{1}},
					{"SELECT ? LIKE 'A'", []any{"a"}},
				}
				steps = append(steps, change...)
				if name == "other conn ddl" {
					c := oneConn(t, db)
					r := oneConn(t, raw)
					for _, s := range steps {
						if a, b := runStep(c, s), runStep(r, s); a != b {
							t.Fatalf("%s: %s; raw %s", s.query, a, b)
						}
					}
					other := openRaw(t, u)
					if _, err := other.Exec("ALTER TABLE t ADD COLUMN w INT DEFAULT 7"); err != nil {
						if cfg == "force_rollback=true" {
							t.Skip(err)
						}
						t.Fatal(err)
					}
					for _, s := range steps {
						if a, b := runStep(c, s), runStep(r, s); a != b {
							t.Fatalf("after another connection's ALTER, %s: %s; raw %s", s.query, a, b)
						}
					}
					return
				}
				steps = append(steps, step{"SELECT * FROM t WHERE id = ?", []any{1}}, step{"SELECT ? LIKE 'A'", []any{"a"}})
				sameAsRaw(t, db, raw, steps)
			})
		}
	}
}

// atkCountsAsWrite runs setup through raw, then q through a fresh DB with
// its own server as replica, and fails unless WritePosition then names a
// position: a statement that wrote is waited for by the next replica read.
func atkCountsAsWrite(t *testing.T, u, port string, setup []string, q string) {
	t.Helper()
	raw := openRaw(t, u)
	for _, s := range setup {
		if _, err := raw.Exec(s); err != nil {
			t.Fatal(s, ": ", err)
		}
	}
	db := openCached(t, u, "replicas=localhost:"+port)
	ctx := context.Background()
	if tok, err := WritePosition(ctx, db); err != nil || tok != "" {
		t.Fatalf("before any write: %q, %v", tok, err)
	}
	if strings.HasPrefix(u, "mysql:") {
		// Without a binary log MariaDB has no position to name: judge by
		// the reading every feature consults.
		var logBin int
		if err := raw.QueryRow("SELECT @@log_bin").Scan(&logBin); err != nil {
			t.Fatal(err)
		}
		if logBin == 0 {
			if ts := classify(backendOf(dsn.MySQL), 0, q); ts.does&effWrite == 0 {
				t.Fatalf("%s writes, but is read as a read: read-your-writes does not wait for it", q)
			}
			return
		}
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(q, ": ", err)
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	tok, err := WritePosition(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if tok == "" {
		t.Fatalf("%s wrote, but WritePosition says the DB wrote nothing: a replica read after it would not wait for it", q)
	}
}

// TestAttackStatementsWritesInDisguise: statements that write without
// INSERT, UPDATE, DELETE or a function call in their text.
func TestAttackStatementsWritesInDisguise(t *testing.T) {
	t.Run("mysql", func(t *testing.T) {
		saServer(t, atkMySQL)
		seq := []string{"DROP SEQUENCE IF EXISTS atk_seq", "CREATE SEQUENCE atk_seq"}
		tbl := []string{"CREATE TABLE IF NOT EXISTS atk_w (id INT PRIMARY KEY)"}
		for name, c := range map[string]struct {
			setup []string
			q     string
		}{
			"next value for":    {seq, "SELECT NEXT VALUE FOR atk_seq"},
			"values next value": {seq, "VALUES (NEXT VALUE FOR atk_seq)"},
			"nextval":           {seq, "SELECT NEXTVAL(atk_seq)"},
			"setval":            {seq, "SELECT SETVAL(atk_seq, 100)"},
			"for update":        {tbl, "SELECT * FROM atk_w FOR UPDATE"},
			"versioned nextval": {seq, "SELECT /*!100300 NEXT VALUE FOR atk_seq */"},
			"quoted nextval":    {seq, "SELECT `NEXTVAL`(atk_seq)"},
		} {
			t.Run(name, func(t *testing.T) { atkCountsAsWrite(t, atkMySQL, atkPort(atkMySQL), c.setup, c.q) })
		}
	})
	t.Run("postgres", func(t *testing.T) {
		saServer(t, saPG)
		seq := []string{"DROP SEQUENCE IF EXISTS atk_seq", "CREATE SEQUENCE atk_seq"}
		tbl := []string{"CREATE TABLE IF NOT EXISTS atk_w (id INT PRIMARY KEY)"}
		for name, c := range map[string]struct {
			setup []string
			q     string
		}{
			"quoted nextval":    {seq, `SELECT "nextval"('atk_seq')`},
			"qualified nextval": {seq, "SELECT pg_catalog.nextval('atk_seq')"},
			"values nextval":    {seq, "VALUES (nextval('atk_seq'))"},
			"setval":            {seq, "SELECT setval('atk_seq', 100)"},
			"for update":        {tbl, "SELECT * FROM atk_w FOR UPDATE"},
			"for no key update": {tbl, "SELECT * FROM atk_w FOR NO KEY UPDATE"},
			"table then cte":    {tbl, "WITH x AS (DELETE FROM atk_w RETURNING *) TABLE x"},
			"function in from":  {seq, "SELECT * FROM nextval('atk_seq')"},
			"operator function": {seq, "SELECT 1 WHERE nextval('atk_seq') > 0"},
		} {
			t.Run(name, func(t *testing.T) { atkCountsAsWrite(t, saPG, atkPort(saPG), c.setup, c.q) })
		}
	})
}

// TestAttackStatementsMySQLSessionMisc: SET NAMES, SET CHARACTER SET,
// LOCK TABLES, a temporary table shadowing a cached statement's table and
// another connection's ALTER TABLE, against the raw driver.
func TestAttackStatementsMySQLSessionMisc(t *testing.T) {
	saServer(t, atkMySQL)
	sel := step{"SELECT * FROM atk_misc WHERE id = ?", []any{1}}
	cs := step{"SELECT CHARSET(?), COLLATION(CONCAT(?, ''))", []any{"a", "b"}}
	for name, change := range map[string][]step{
		"set names":         {{"!SET NAMES latin1", nil}},
		"versioned names":   {{"!/*!40101 SET NAMES latin1 */", nil}},
		"set character set": {{"!SET CHARACTER SET latin1", nil}},
		"lock tables":       {{"!LOCK TABLES atk_misc2 READ", nil}, sel, {"!UNLOCK TABLES", nil}},
		"temporary shadow":  {{"!CREATE TEMPORARY TABLE atk_misc (id INT PRIMARY KEY, w VARCHAR(10))", nil}, {"!INSERT INTO atk_misc VALUES (1, 'temp')", nil}},
		"other conn alter":  nil,
	} {
		for _, cfg := range append(atkConfigs(atkPort(atkMySQL)), "force_rollback=true") {
			t.Run(name+"/"+cfg, func(t *testing.T) {
				setup := openRaw(t, atkMySQL)
				for _, q := range []string{
					"DROP TABLE IF EXISTS atk_misc", "CREATE TABLE atk_misc (id INT PRIMARY KEY, v VARCHAR(10))",
					"INSERT INTO atk_misc VALUES (1, 'main')", "CREATE TABLE IF NOT EXISTS atk_misc2 (id INT)",
				} {
					if _, err := setup.Exec(q); err != nil {
						t.Fatal(q, ": ", err)
					}
				}
				setup.Close()
				db := openCached(t, atkMySQL, cfg)
				raw := openRaw(t, atkMySQL)
				if name == "lock tables" && cfg == "force_rollback=true" {
					t.Skip("force_rollback refuses LOCK TABLES, an implicit commit, as documented")
				}
				if name != "other conn alter" {
					steps := append([]step{sel, cs}, change...)
					sameAsRaw(t, db, raw, append(steps, sel, cs))
					return
				}
				if cfg == "force_rollback=true" {
					t.Skip("another connection's ALTER waits for force_rollback's open transaction")
				}
				c, r := oneConn(t, db), oneConn(t, raw)
				for _, s := range []step{sel, sel} {
					if a, b := runStep(c, s), runStep(r, s); a != b {
						t.Fatalf("%s: %s; raw %s", s.query, a, b)
					}
				}
				other := openRaw(t, atkMySQL)
				if _, err := other.Exec("ALTER TABLE atk_misc ADD COLUMN w INT DEFAULT 7"); err != nil {
					t.Fatal(err)
				}
				for _, s := range []step{sel, sel} {
					if a, b := runStep(c, s), runStep(r, s); a != b {
						t.Fatalf("after another connection's ALTER, %s: %s; raw %s", s.query, a, b)
					}
				}
			})
		}
	}
}

// TestAttackStatementsPostgresStaleWrite: a cached UPDATE … RETURNING *
// whose table another connection altered fails at first with 0A000 and is
// run once more: the row must be updated once per call, and the answer
// carry the new column.
func TestAttackStatementsPostgresStaleWrite(t *testing.T) {
	saServer(t, saPG)
	for _, cfg := range []string{"stmt_cache=8", "stmt_cache=0", "stmt_cache=8&log=debug", "stmt_cache=8&replicas=localhost:5432"} {
		for _, q := range []string{
			"UPDATE atk_stale SET n = n + 1 WHERE id = ? RETURNING *",
			"WITH u AS (UPDATE atk_stale SET n = n + 1 WHERE id = ? RETURNING *) SELECT * FROM u",
		} {
			t.Run(cfg+"/"+q[:4], func(t *testing.T) {
				other := openRaw(t, saPG)
				for _, s := range []string{"DROP TABLE IF EXISTS atk_stale", "CREATE TABLE atk_stale (id INT PRIMARY KEY, n INT)", "INSERT INTO atk_stale VALUES (1, 0)"} {
					if _, err := other.Exec(s); err != nil {
						t.Fatal(err)
					}
				}
				db := openCached(t, saPG, cfg)
				c := oneConn(t, db)
				if got := runStep(c, step{q, []any{1}}); got != "[1 1]" {
					t.Fatalf("first call: %s", got)
				}
				if _, err := other.Exec("ALTER TABLE atk_stale ADD COLUMN w INT DEFAULT 7"); err != nil {
					t.Fatal(err)
				}
				if got := runStep(c, step{q, []any{1}}); got != "[1 2 7]" {
					t.Fatalf("after another connection's ALTER: %s, want [1 2 7]", got)
				}
				var n int
				if err := other.QueryRow("SELECT n FROM atk_stale WHERE id = 1").Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 2 {
					t.Fatalf("n = %d after two calls: a call ran twice or not at all", n)
				}
			})
		}
	}
}
