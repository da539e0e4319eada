package databases_test

// Attacks on the force_rollback promise (docs/transactions.md, "force_rollback:
// the test mode"; README "Testing with force_rollback"). The oracle: after
// db.Close() the database is exactly as before, seen by a plain connection of
// the raw driver; on sqlite :memory:, where nothing outlives the DB, a
// databases.Savepoint taken first must roll back cleanly to the state before.
// The servers' tables live in a database of their own, test_atkfr, created
// and dropped by TestAttackForceRollback.
//
// Breaks (failing subtests, each with a BREAK comment): {sqlite,sqlitemem}/stmt/sqlite-create-trigger-begin-end,
// postgres/stmt/pg-create-{function,procedure}-begin-atomic, mysql/stmt/my-set-statement-{create,truncate,alter}(/prepared),
// mysql/stmt/my-analyze-{select,insert}, mysql/stmt/my-execute-immediate-commit-chain, {postgres,mysql}/killed/*.
//
// What held (kept as passing subtests, so it stays held):
//
//	| door                                                   | held on                      | subtest                         |
//	|--------------------------------------------------------|------------------------------|---------------------------------|
//	| COMMIT/ROLLBACK/BEGIN/END/ABORT/START TRANSACTION with  | all four                     | stmt/commit*, rollback*, begin, |
//	|   /* */, --, form feed, lower case, WORK, AND CHAIN,   |                              |   end*, start*, pg-*, my-*      |
//	|   ROLLBACK -- TO / ROLLBACK /* TO */, prepared          |                              |   (+/prepared)                  |
//	| after ';' and behind string/identifier tricks: ';',    | sqlite, postgres, mysql      | stmt/commit-after-*,            |
//	|   "x'", [x'], `x'`, E'\'', $$'$$, $a$'$a$, 'x\'',      | (mysql with multiStatements) |   pg-*-commit, my-multi-*       |
//	|   --1 (MySQL minus), # ;, non-nested /* /* */ (SQLite, |                              |                                 |
//	|   MySQL), nested /* /* */ */ (PG), /*!; COMMIT */      |                              |                                 |
//	| all-comment PG nested /* /* */ COMMIT */ SELECT 1 runs | postgres                     | stmt/pg-all-comment-nested      |
//	| CASE … END after a ";" runs                            | sqlite, postgres             | stmt/case-end-after-semicolon   |
//	| MySQL #, /*! */, /*!NNNNN */, /*M!NNNNNN */ COMMIT     | mysql                        | stmt/my-*-commit                |
//	| SET autocommit in 9 forms (@@, SESSION, LOCAL, second  | mysql                        | stmt/my-set-*autocommit*        |
//	|   of a list, /*!40101 */, comment)                     |                              |                                 |
//	| DDL, TRUNCATE, ANALYZE/FLUSH/LOCK TABLE(S)/RENAME/     | mysql                        | stmt/my-create-*, my-alter, ... |
//	|   CREATE INDEX, XA, /*!50000 CREATE */ refused         |                              |                                 |
//	| CREATE [/* */|/*!32302*/] TEMPORARY TABLE [… SELECT]   | mysql                        | stmt/my-create-*temporary*      |
//	| EXECUTE IMMEDIATE 'COMMIT'/'CREATE …', PREPARE+EXECUTE | mysql                        | stmt/my-execute-immediate-*,    |
//	|   'COMMIT': error says so, later writes rolled back    |                              |   my-multi-prepare-execute-*    |
//	| DDL/TRUNCATE/LOCK/DO/CTE-INSERT/EXPLAIN ANALYZE run and | postgres, sqlite             | stmt/pg-*, sqlite-*             |
//	|   are rolled back at Close; SAVEPOINT runs, beside     |                              |                                 |
//	|   another statement refused (PG)                       |                              |                                 |
//	| options stmt_cache=0, log=debug, trace=on,             | all four                     | stmt/<case>/<option>            |
//	|   placeholders=native, insights=on                     |                              |                                 |
//	| INSERT/UPDATE OR ROLLBACK: error says so, new outer tx | sqlite, sqlitemem            | sqlite-or-rollback              |
//	| two sql.Conn: waits for a tx, goes on after Commit;    | all four                     | two-conns                       |
//	|   fails after ~5 s while a tx holds it                 |                              |                                 |
//	| rows read into memory: values, Go types, ColumnTypes   | all four                     | rows-buffered                   |
//	|   equal to the raw driver's and to streamed rows       |                              |                                 |
//	| CALL with two result sets buffered = raw driver's      | mysql                        | mysql-result-sets               |
//	| context cancelled before/during (exec, prepared),      | all four                     | cancel                          |
//	|   during rows, a tx's ctx cancelled, right before Close|                              |                                 |
//	| Close with rows/stmt/conn/tx/tx+rows/conn+rows open:   | all four                     | close-open/*                    |
//	|   returns, tx reported, database as before             |                              |                                 |
//	| BeginTx options refused; nested Transact error/panic;  | all four                     | transact                        |
//	|   outer panic; Commit twice; COMMIT inside BeginTx     |                              |                                 |
//	| Savepoint nesting, out of order refused, with a user   | all four                     | savepoints                      |
//	|   SAVEPOINT/ROLLBACK TO, open tx fails ~5 s, plain DB  |                              |                                 |
//	|   error says force_rollback, RollbackAfter nested      |                              |                                 |
//	| DriverConn + pgx CopyFrom (good and failing),          | postgres (+ CopyFrom on all) | driverconn-copy                 |
//	|   databases.CopyFrom good and failing, all rolled back |                              |                                 |
//	| the connection killed: nothing written survives Close  | postgres, mysql              | killed (first half)             |

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

const afrDBName = "test_atkfr"

type afrBackend struct {
	name, dialect string
	be            dbtest.Backend
}

func afrBackends() []afrBackend {
	var out []afrBackend
	for _, b := range dbtest.Backends() {
		if b.Dialect == "sqlite" {
			out = append(out, afrBackend{"sqlite", "sqlite", b}, afrBackend{"sqlitemem", "sqlite", b})
			continue
		}
		out = append(out, afrBackend{b.Dialect, b.Dialect, b})
	}
	return out
}

// afrEnv is one subtest's database: the URL without force_rollback, and a
// plain connection of the raw driver (nil on :memory:).
type afrEnv struct {
	t      *testing.T
	b      afrBackend
	url    string
	raw    *sql.DB
	setup  []string // run on raw now, or on the FR DB when it opens (:memory:)
	tables []string
}

var afrCreateOnce sync.Map

func afrServerURL(t *testing.T, env string) (fr string, rawDriver, rawDSN string) {
	t.Helper()
	u, err := url.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	base := *u
	u.Path = "/" + afrDBName
	q := u.Query()
	if u.Scheme == "mysql" || u.Scheme == "mariadb" {
		if !q.Has("parseTime") {
			q.Set("parseTime", "true")
		}
		u.RawQuery = q.Encode()
		user := u.User.Username()
		if p, ok := u.User.Password(); ok {
			user += ":" + p
		}
		dsn := fmt.Sprintf("%s@tcp(%s)/%s?%s", user, u.Host, afrDBName, q.Encode())
		if _, done := afrCreateOnce.LoadOrStore("mysql", true); !done {
			adm, err := sql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/", user, u.Host))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := adm.Exec("CREATE DATABASE IF NOT EXISTS " + afrDBName); err != nil {
				t.Fatal(err)
			}
			adm.Close()
		}
		return u.String(), "mysql", dsn
	}
	if _, done := afrCreateOnce.LoadOrStore("postgres", true); !done {
		adm, err := sql.Open("pgx", base.String())
		if err != nil {
			t.Fatal(err)
		}
		adm.Exec("CREATE DATABASE " + afrDBName) // exists: fine
		adm.Close()
	}
	return u.String(), "pgx", u.String()
}

func afrNew(t *testing.T, b afrBackend) *afrEnv {
	t.Helper()
	b.be.Require(t)
	f := &afrEnv{t: t, b: b}
	switch b.name {
	case "sqlite":
		p := t.TempDir() + "/fr.db"
		f.url = "sqlite:///" + p
		raw, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		raw.SetMaxOpenConns(1)
		f.raw = raw
	case "sqlitemem":
		f.url = "sqlite:///:memory:"
	default:
		u, drv, dsn := afrServerURL(t, b.be.URL)
		f.url = u
		raw, err := sql.Open(drv, dsn)
		if err != nil {
			t.Fatal(err)
		}
		f.raw = raw
	}
	t.Cleanup(func() {
		if f.raw != nil {
			for _, tn := range f.tables {
				for _, sfx := range []string{"", "_n", "_x", "_r", "_t"} {
					f.raw.Exec("DROP TABLE IF EXISTS " + tn + sfx)
				}
				if f.b.dialect == "postgres" {
					f.raw.Exec("DROP FUNCTION IF EXISTS " + tn + "_f")
					f.raw.Exec("DROP PROCEDURE IF EXISTS " + tn + "_pr")
				}
			}
			f.raw.Close()
		}
	})
	return f
}

// table creates a table (id INT PRIMARY KEY, v VARCHAR(50)) with rows 1, 2.
func (f *afrEnv) table() string {
	tn := dbtest.Name("atkfr")
	f.tables = append(f.tables, tn)
	f.exec("CREATE TABLE "+tn+" (id INT PRIMARY KEY, v VARCHAR(50))",
		"INSERT INTO "+tn+" VALUES (1, 'a'), (2, 'b')")
	return tn
}

func (f *afrEnv) exec(qs ...string) {
	f.t.Helper()
	for _, q := range qs {
		if f.raw == nil {
			f.setup = append(f.setup, q)
			continue
		}
		if _, err := f.raw.Exec(q); err != nil {
			f.t.Fatalf("setup %q: %v", q, err)
		}
	}
}

// open opens the force_rollback DB with extra options ("a=b&c=d").
func (f *afrEnv) open(opts string) *sql.DB {
	f.t.Helper()
	u, err := databases.URLWithOption(f.url, "force_rollback", "true")
	if err != nil {
		f.t.Fatal(err)
	}
	if opts != "" {
		u += "&" + opts
	}
	db, err := databases.Open(u)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	if f.raw == nil {
		// :memory: the schema is made in the DB itself (SQLite DDL runs)
		for _, q := range f.setup {
			if _, err := db.Exec(q); err != nil {
				f.t.Fatalf("setup %q: %v", q, err)
			}
		}
	}
	return db
}

// snap is the whole test database as text: its objects and every table's rows.
func (f *afrEnv) snap() string {
	f.t.Helper()
	if f.raw == nil {
		return ""
	}
	var q string
	switch f.b.dialect {
	case "sqlite":
		q = "SELECT type || ' ' || name FROM sqlite_master ORDER BY 1"
	case "postgres":
		q = "SELECT relkind::text || ' ' || relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' UNION ALL SELECT 'f ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1"
	case "mysql":
		q = "SELECT CONCAT(IF(table_type = 'BASE TABLE', 'T', table_type), ' ', table_name) FROM information_schema.tables WHERE table_schema = DATABASE() UNION ALL SELECT CONCAT('r ', routine_name) FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 1"
	}
	objs := afrStrings(f.t, f.raw, q)
	var sb strings.Builder
	for _, o := range objs {
		sb.WriteString(o + "\n")
		kind, name, _ := strings.Cut(o, " ")
		if kind == "table" || kind == "r" || kind == "T" {
			sb.WriteString(afrDump(f.t, f.raw, name))
		}
	}
	return sb.String()
}

func afrStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func afrDump(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		return "  (" + err.Error() + ")\n"
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		rows.Scan(p...)
		var sb strings.Builder
		for _, x := range v {
			if b, ok := x.([]byte); ok {
				x = string(b)
			}
			fmt.Fprintf(&sb, "%v|", x)
		}
		lines = append(lines, "  "+sb.String())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// closeAndCheck closes db (bounded) and compares the database with before.
func (f *afrEnv) closeAndCheck(db *sql.DB, before string) error {
	f.t.Helper()
	done := make(chan error, 1)
	go func() { done <- db.Close() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		f.t.Fatal("db.Close did not return in 30 s")
	}
	if f.raw != nil {
		if after := f.snap(); after != before {
			f.t.Errorf("the database is not as before after Close:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}
	return err
}

func afrCount(t *testing.T, db *sql.DB, tn string) int {
	t.Helper()
	var n int
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tn).Scan(&n); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func afrCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// afrStmt is one statement in some dressing, and what the promise says of it.
type afrStmt struct {
	name     string
	dialects string // "sqlite postgres mysql"
	q        string // %[1]s is the table
	want     string // refuse: an error, nothing done; run: no error; err: an error; detect: an error, a new outer transaction
	opts     string
}

var afrStmts = []afrStmt{
	// refused in any dressing
	{"commit", "sqlite postgres mysql", "COMMIT", "refuse", ""},
	{"commit-lower", "sqlite postgres mysql", "commit", "refuse", ""},
	{"commit-blockcomment", "sqlite postgres mysql", "/* c */ COMMIT", "refuse", ""},
	{"commit-linecomment", "sqlite postgres mysql", "-- c\nCOMMIT", "refuse", ""},
	{"commit-formfeed", "sqlite postgres mysql", "\fCOMMIT", "refuse", ""},
	{"commit-after-semicolon", "sqlite postgres", "SELECT 1; COMMIT", "refuse", ""},
	{"commit-after-semicolon-nospace", "sqlite postgres", "SELECT 1;COMMIT", "refuse", ""},
	{"commit-after-comment-semicolon", "sqlite postgres", "SELECT 1; /* ; */ COMMIT;", "refuse", ""},
	{"commit-after-insert", "sqlite postgres", "INSERT INTO %[1]s VALUES (50, 'x'); COMMIT", "refuse", ""},
	{"commit-after-string-semicolon", "sqlite postgres", "SELECT ';'; COMMIT", "refuse", ""},
	{"commit-after-dquote-ident", "sqlite postgres", `SELECT 1 AS "x'"; COMMIT; -- '`, "refuse", ""},
	{"rollback", "sqlite postgres mysql", "ROLLBACK", "refuse", ""},
	{"rollback-comment-to", "sqlite postgres mysql", "ROLLBACK -- TO x\n", "refuse", ""},
	{"rollback-blockcomment-to", "sqlite postgres mysql", "ROLLBACK /* TO x */", "refuse", ""},
	{"rollback-work", "sqlite postgres mysql", "ROLLBACK WORK", "refuse", ""},
	{"begin", "sqlite postgres mysql", "BEGIN", "refuse", ""},
	{"start-transaction", "postgres mysql", "START TRANSACTION", "refuse", ""},
	{"start-comment-transaction", "postgres mysql", "START/**/TRANSACTION", "refuse", ""},
	{"end", "sqlite postgres", "END", "refuse", ""},
	{"end-transaction", "sqlite", "END TRANSACTION", "refuse", ""},
	{"commit-transaction", "sqlite", "COMMIT TRANSACTION", "refuse", ""},
	{"commit-nonnested-comment", "sqlite", "/* /* */ COMMIT", "refuse", ""},
	{"commit-after-nonnested-comment", "sqlite", "SELECT 1 /* /* */; COMMIT", "refuse", ""},
	{"commit-after-bracket-ident", "sqlite", "SELECT 1 AS [x']; COMMIT; -- ']", "refuse", ""},
	{"commit-after-backtick-ident", "sqlite", "SELECT 1 AS `x'`; COMMIT; -- '", "refuse", ""},
	// PostgreSQL
	{"pg-abort", "postgres", "ABORT", "refuse", ""},
	{"pg-commit-and-chain", "postgres", "COMMIT AND CHAIN", "refuse", ""},
	{"pg-rollback-and-chain", "postgres", "ROLLBACK AND CHAIN", "refuse", ""},
	{"pg-prepare-transaction", "postgres", "PREPARE TRANSACTION 'atkfr'", "refuse", ""},
	{"pg-nested-comment-commit", "postgres", "/* /* */ */ COMMIT", "refuse", ""},
	{"pg-nested-comment-then-commit", "postgres", "SELECT 1 /* /* */ ; */ ; COMMIT", "refuse", ""},
	{"pg-estring-commit", "postgres", `SELECT E'\''; COMMIT; SELECT ''`, "refuse", ""},
	{"pg-dollar-commit", "postgres", `SELECT $$'$$; COMMIT; SELECT '$$'`, "refuse", ""},
	{"pg-tagged-dollar-commit", "postgres", `SELECT $a$'$a$; COMMIT; SELECT '$a$'`, "refuse", ""},
	{"pg-savepoint-beside", "postgres", "SAVEPOINT a; SELECT 1", "refuse", ""},
	{"pg-commit-prepared-stmt-cache0", "postgres", "COMMIT", "refuse", "stmt_cache=0"},
	{"pg-all-comment-nested", "postgres", "/* /* */ COMMIT */ SELECT 1", "run", ""},
	{"pg-do-begin-end", "postgres", "DO $$BEGIN INSERT INTO %[1]s VALUES (60, 'do'); END$$", "run", ""},
	{"pg-do-tagged", "postgres", "DO $x$ BEGIN PERFORM 1; END $x$", "run", ""},
	// BREAK: promise: PostgreSQL DDL "runs, rolled back at Close"; refused as END at the body's END
	{"pg-create-function-begin-atomic", "postgres", "CREATE FUNCTION %[1]s_f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", "run", ""},
	{"case-end-after-semicolon", "sqlite postgres", "SELECT 1; SELECT CASE WHEN 1 = 1 THEN 1 END", "run", ""},
	// BREAK: as above, a procedure's SQL-standard body
	{"pg-create-procedure-begin-atomic", "postgres", "CREATE PROCEDURE %[1]s_pr() LANGUAGE sql BEGIN ATOMIC INSERT INTO %[1]s VALUES (70, 'p'); END", "run", ""},
	{"pg-create-table", "postgres", "CREATE TABLE %[1]s_n (id int)", "run", ""},
	{"pg-alter-table", "postgres", "ALTER TABLE %[1]s ADD COLUMN z int", "run", ""},
	{"pg-truncate", "postgres", "TRUNCATE %[1]s", "run", ""},
	{"pg-lock", "postgres", "LOCK TABLE %[1]s", "run", ""},
	{"pg-savepoint", "postgres", "/* c */ SAVEPOINT a", "run", ""},
	{"pg-cte-insert", "postgres", "WITH x AS (INSERT INTO %[1]s VALUES (61, 'w') RETURNING id) SELECT * FROM x", "run", ""},
	{"pg-explain-analyze-insert", "postgres", "EXPLAIN ANALYZE INSERT INTO %[1]s VALUES (62, 'e')", "run", ""},
	{"pg-do-commit", "postgres", "DO $$BEGIN COMMIT; END$$", "err", ""},
	// SQLite
	// BREAK: promise: SQLite DDL "runs, rolled back at Close"; refused as END at the trigger body's END
	{"sqlite-create-trigger-begin-end", "sqlite", "CREATE TRIGGER %[1]s_tr AFTER INSERT ON %[1]s BEGIN UPDATE %[1]s SET v = 'tr' WHERE id = NEW.id; END", "run", ""},
	{"sqlite-create-table", "sqlite", "CREATE TABLE %[1]s_n (id int)", "run", ""},
	{"sqlite-drop-table", "sqlite", "DROP TABLE %[1]s", "run", ""},
	{"sqlite-savepoint", "sqlite", "SAVEPOINT a", "run", ""},
	// MySQL / MariaDB
	{"my-hash-commit", "mysql", "# c\nCOMMIT", "refuse", ""},
	{"my-bang-commit", "mysql", "/*! COMMIT */", "refuse", ""},
	{"my-bang-version-commit", "mysql", "/*!50000 COMMIT */", "refuse", ""},
	{"my-mbang-commit", "mysql", "/*M!100000 COMMIT */", "refuse", ""},
	{"my-nonnested-comment-commit", "mysql", "/* /* */ COMMIT", "refuse", ""},
	{"my-commit-work", "mysql", "COMMIT WORK", "refuse", ""},
	{"my-commit-and-chain", "mysql", "COMMIT AND CHAIN", "refuse", ""},
	{"my-rollback-and-chain", "mysql", "ROLLBACK AND CHAIN", "refuse", ""},
	{"my-begin-work", "mysql", "BEGIN WORK", "refuse", ""},
	{"my-xa-start", "mysql", "XA START 'atkfr'", "refuse", ""},
	{"my-set-autocommit", "mysql", "SET autocommit = 1", "refuse", ""},
	{"my-set-autocommit0", "mysql", "SET autocommit = 0", "refuse", ""},
	{"my-set-atat-autocommit", "mysql", "SET @@autocommit := 1", "refuse", ""},
	{"my-set-session-autocommit", "mysql", "SET SESSION autocommit = ON", "refuse", ""},
	{"my-set-atat-session-autocommit", "mysql", "SET @@session.autocommit = 1", "refuse", ""},
	{"my-set-local-autocommit", "mysql", "SET @@local.autocommit = 1", "refuse", ""},
	{"my-set-second-autocommit", "mysql", "SET sql_mode = DEFAULT, autocommit = 1", "refuse", ""},
	{"my-set-var-then-autocommit", "mysql", "SET @x = 1, @@autocommit = 0", "refuse", ""},
	{"my-set-comment-autocommit", "mysql", "SET /* c */ autocommit = 1", "refuse", ""},
	{"my-bang-set-autocommit", "mysql", "/*!40101 SET autocommit = 0 */", "refuse", ""},
	{"my-create-table", "mysql", "CREATE TABLE %[1]s_n (id int)", "refuse", ""},
	{"my-bang-create-table", "mysql", "/*!50000 CREATE TABLE %[1]s_n (id int) */", "refuse", ""},
	// BREAK: promise: MySQL DDL/TRUNCATE "refused (implicit commit)" in any dressing; SET STATEMENT … FOR runs it and commits
	{"my-set-statement-create", "mysql", "SET STATEMENT max_statement_time = 0 FOR CREATE TABLE %[1]s_n (id int)", "refuse", ""},
	{"my-set-statement-truncate", "mysql", "SET STATEMENT max_statement_time = 0 FOR TRUNCATE TABLE %[1]s", "refuse", ""},
	{"my-set-statement-alter", "mysql", "SET STATEMENT lock_wait_timeout = 5 FOR ALTER TABLE %[1]s ADD COLUMN z int", "refuse", ""},
	{"my-drop-if-exists", "mysql", "/*M!100000 DROP TABLE IF EXISTS %[1]s_none */", "refuse", ""},
	{"my-rename", "mysql", "RENAME TABLE %[1]s TO %[1]s_r", "refuse", ""},
	{"my-truncate-bare", "mysql", "TRUNCATE %[1]s", "refuse", ""},
	{"my-analyze-table", "mysql", "ANALYZE NO_WRITE_TO_BINLOG TABLE %[1]s", "refuse", ""},
	{"my-analyze-local", "mysql", "ANALYZE /* c */ LOCAL TABLE %[1]s", "refuse", ""},
	{"my-flush-status", "mysql", "FLUSH STATUS", "refuse", ""},
	{"my-lock-table-singular", "mysql", "LOCK TABLE %[1]s READ", "refuse", ""},
	{"my-lock-tables", "mysql", "LOCK TABLES %[1]s WRITE", "refuse", ""},
	{"my-create-index", "mysql", "CREATE INDEX %[1]s_i ON %[1]s (v)", "refuse", ""},
	{"my-alter", "mysql", "ALTER TABLE %[1]s ADD COLUMN z int", "refuse", ""},
	{"my-create-temporary", "mysql", "CREATE TEMPORARY TABLE %[1]s_t (id int)", "run", ""},
	{"my-create-comment-temporary", "mysql", "CREATE /* c */ TEMPORARY TABLE %[1]s_t (id int)", "run", ""},
	{"my-create-bang-temporary", "mysql", "CREATE /*!32302 TEMPORARY */ TABLE %[1]s_t (id int)", "run", ""},
	{"my-create-temporary-select", "mysql", "CREATE TEMPORARY TABLE %[1]s_t SELECT * FROM %[1]s", "run", ""},
	// BREAK: promise refuses ANALYZE … TABLE (implicit commit); MariaDB's ANALYZE SELECT/INSERT is EXPLAIN-like and does not commit (the raw driver runs it in a transaction), yet is refused
	{"my-analyze-select", "mysql", "ANALYZE SELECT * FROM %[1]s", "run", ""},
	{"my-analyze-insert", "mysql", "ANALYZE INSERT INTO %[1]s VALUES (63, 'an')", "run", ""},
	{"my-execute-immediate-commit", "mysql", "EXECUTE IMMEDIATE 'COMMIT'", "detect", ""},
	{"my-execute-immediate-create", "mysql", "EXECUTE IMMEDIATE 'CREATE TABLE %[1]s_x (id int)'", "detect", ""},
	// BREAK: promise: EXECUTE "runs, then the server is asked; if the outer transaction was committed, the error says so"; COMMIT AND CHAIN commits silently
	{"my-execute-immediate-commit-chain", "mysql", "EXECUTE IMMEDIATE 'COMMIT AND CHAIN'", "detect", ""},
	// multiStatements on MySQL
	{"my-multi-commit", "mysql", "SELECT 1; COMMIT", "refuse", "multiStatements=true"},
	{"my-multi-backslash-commit", "mysql", `SELECT 'x\''; COMMIT; SELECT ''`, "refuse", "multiStatements=true"},
	{"my-multi-dashdash-commit", "mysql", "SELECT 1 --1; COMMIT", "refuse", "multiStatements=true"},
	{"my-multi-hash-commit", "mysql", "SELECT 1 # ;\n; COMMIT", "refuse", "multiStatements=true"},
	{"my-multi-backtick-commit", "mysql", "SELECT 1 AS `x'`; COMMIT; -- '", "refuse", "multiStatements=true"},
	{"my-multi-nonnested-commit", "mysql", "SELECT 1 /* /* */; COMMIT", "refuse", "multiStatements=true"},
	{"my-multi-bang-semicolon-commit", "mysql", "SELECT 1 /*!; COMMIT */", "refuse", "multiStatements=true"},
	{"my-multi-dquote-commit", "mysql", `SELECT "x'"; COMMIT; SELECT '"'`, "refuse", "multiStatements=true"},
	{"my-multi-set-autocommit", "mysql", "SELECT 1; SET autocommit = 0", "refuse", "multiStatements=true"},
	{"my-multi-prepare-execute-commit", "mysql", "PREPARE s FROM 'COMMIT'; EXECUTE s", "detect", "multiStatements=true"},
}

// afrRunStmt: insert a row, run the statement (executed or prepared), insert
// another; the promise's verdict; Close leaves the database as before.
func afrRunStmt(t *testing.T, b afrBackend, c afrStmt, prepared bool, opts string) {
	f := afrNew(t, b)
	tn := f.table()
	before := f.snap()
	o := c.opts
	if opts != "" {
		if o != "" {
			o += "&"
		}
		o += opts
	}
	db := f.open(o)
	ctx := afrCtx(t)
	rollback, err := databases.Savepoint(ctx, db)
	if err != nil {
		t.Fatalf("Savepoint: %v", err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'fr')"); err != nil {
		t.Fatal(err)
	}
	q := c.q
	if strings.Contains(q, "%[1]s") {
		q = fmt.Sprintf(q, tn)
	}
	var serr error
	if prepared {
		st, err := db.PrepareContext(ctx, q)
		if err == nil {
			_, serr = st.ExecContext(ctx)
			st.Close()
		} else {
			serr = err
		}
	} else {
		_, serr = db.ExecContext(ctx, q)
	}
	switch c.want {
	case "refuse", "err", "detect":
		if serr == nil {
			t.Errorf("%q: no error; the promise: %s", q, c.want)
		}
	case "run":
		if serr != nil {
			t.Errorf("%q: %v; the promise: it runs", q, serr)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (101, 'fr')"); err != nil && !strings.Contains(c.name, "drop-table") {
		t.Errorf("insert after %q: %v", q, err)
	}
	if c.want == "refuse" && b.name == "sqlitemem" {
		if err := rollback(); err != nil {
			t.Errorf("rollback after %q: %v", q, err)
		} else if n := afrCount(t, db, tn); n != 2 {
			t.Errorf("after %q and the Savepoint's rollback: %d rows, want 2", q, n)
		}
	}
	if c.want == "detect" {
		// what ran before the commit is committed (the promise says the error
		// tells); what ran after, in the new outer transaction, must not be
		if err := db.Close(); err != nil {
			t.Logf("Close: %v", err)
		}
		if f.raw != nil {
			if n := afrCount(t, f.raw, tn+" WHERE id = 101"); n != 0 {
				t.Errorf("after %q: the row written after it survived Close", q)
			}
		}
		return
	}
	if err := f.closeAndCheck(db, before); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestAttackForceRollback(t *testing.T) {
	t.Cleanup(func() {
		afrCreateOnce.Clear() // created again by a next run (-count)
		if u := os.Getenv("DATABASES_TEST_POSTGRES_URL"); u != "" {
			if adm, err := sql.Open("pgx", u); err == nil {
				adm.Exec("DROP DATABASE IF EXISTS " + afrDBName + " WITH (FORCE)")
				adm.Close()
			}
		}
		if u := os.Getenv("DATABASES_TEST_MYSQL_URL"); u != "" {
			pu, err := url.Parse(u)
			if err == nil {
				user := pu.User.Username()
				if p, ok := pu.User.Password(); ok {
					user += ":" + p
				}
				if adm, err := sql.Open("mysql", user+"@tcp("+pu.Host+")/"); err == nil {
					adm.Exec("DROP DATABASE IF EXISTS " + afrDBName)
					adm.Close()
				}
			}
		}
	})
	for _, b := range afrBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Run("stmt", func(t *testing.T) {
				for _, c := range afrStmts {
					if !strings.Contains(c.dialects, b.dialect) {
						continue
					}
					t.Run(c.name, func(t *testing.T) { afrRunStmt(t, b, c, false, "") })
					if c.want == "refuse" {
						t.Run(c.name+"/prepared", func(t *testing.T) { afrRunStmt(t, b, c, true, "") })
					}
					if c.name == "commit-after-semicolon" || c.name == "commit-blockcomment" || c.name == "my-hash-commit" || c.name == "my-bang-commit" {
						for _, o := range []string{"stmt_cache=0", "log=debug", "trace=on", "placeholders=native", "insights=on"} {
							t.Run(c.name+"/"+o, func(t *testing.T) { afrRunStmt(t, b, c, false, o) })
							t.Run(c.name+"/prepared/"+o, func(t *testing.T) { afrRunStmt(t, b, c, true, o) })
						}
					}
				}
			})
			for _, s := range afrScenarios {
				t.Run(s.name, func(t *testing.T) { s.f(t, b) })
			}
		})
	}
}

type afrScenario struct {
	name string
	f    func(t *testing.T, b afrBackend)
}

var afrScenarios = []afrScenario{
	{"sqlite-or-rollback", afrSQLiteOrRollback},
	{"killed", afrKilled},
	{"two-conns", afrTwoConns},
	{"rows-buffered", afrRowsBuffered},
	{"cancel", afrCancel},
	{"close-open", afrCloseOpen},
	{"transact", afrTransact},
	{"savepoints", afrSavepoints},
	{"driverconn-copy", afrDriverConnCopy},
	{"mysql-result-sets", afrMySQLResultSets},
}

// A MySQL procedure with two result sets, left open while another connection
// needs the connection: every result set read into memory, as the raw driver
// gives them.
func afrMySQLResultSets(t *testing.T, b afrBackend) {
	if b.dialect != "mysql" {
		return
	}
	f := afrNew(t, b)
	tn := f.table()
	p := tn + "_p"
	f.exec("CREATE PROCEDURE " + p + "() BEGIN SELECT id, v FROM " + tn + " ORDER BY id; SELECT 42 AS n, NOW(6) AS ts, CAST(1.5 AS DECIMAL(5,2)) AS d; END")
	t.Cleanup(func() { f.raw.Exec("DROP PROCEDURE IF EXISTS " + p) })
	read := func(db *sql.DB, buffer func()) string {
		ctx := afrCtx(t)
		rows, err := db.QueryContext(ctx, "CALL "+p+"()")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var sb strings.Builder
		first := true
		for set := 0; ; set++ {
			ct, _ := rows.ColumnTypes()
			for _, c := range ct {
				fmt.Fprintf(&sb, "%s %s %v; ", c.Name(), c.DatabaseTypeName(), c.ScanType())
			}
			for rows.Next() {
				if first && buffer != nil {
					buffer()
				}
				first = false
				cn, _ := rows.Columns()
				v := make([]any, len(cn))
				pp := make([]any, len(cn))
				for i := range v {
					pp[i] = &v[i]
				}
				rows.Scan(pp...)
				for i := range v {
					if _, ok := v[i].(time.Time); ok {
						v[i] = "time"
					}
				}
				fmt.Fprintf(&sb, "%#v\n", v)
			}
			if !rows.NextResultSet() {
				break
			}
			sb.WriteString("--\n")
		}
		if err := rows.Err(); err != nil {
			fmt.Fprintf(&sb, "err %v", err)
		}
		return sb.String()
	}
	want := read(f.raw, nil)
	db := f.open("")
	got := read(db, func() {
		if _, err := db.ExecContext(afrCtx(t), "INSERT INTO "+tn+" VALUES (100, 'fr')"); err != nil {
			t.Errorf("insert while rows are open: %v", err)
		}
	})
	if got != want {
		t.Errorf("CALL's result sets read into memory differ from the raw driver's:\nraw:\n%s\nfr:\n%s", want, got)
	}
	db.Close()
}

// A statement the server answers by rolling back the whole transaction: "the
// server is asked whether the outer transaction survived: if not, the error
// says so and a new one begins" (SQLite); what follows must still be rolled
// back at Close.
func afrSQLiteOrRollback(t *testing.T, b afrBackend) {
	if b.dialect != "sqlite" {
		return
	}
	for _, q := range []string{
		"INSERT OR ROLLBACK INTO %[1]s VALUES (1, 'dup')",
		"UPDATE OR ROLLBACK %[1]s SET id = 2 WHERE id = 1",
	} {
		t.Run(strings.Fields(q)[0], func(t *testing.T) {
			f := afrNew(t, b)
			tn := f.table()
			before := f.snap()
			db := f.open("")
			ctx := afrCtx(t)
			db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'fr')")
			_, err := db.ExecContext(ctx, fmt.Sprintf(q, tn))
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "roll") {
				t.Errorf("%q: %v; the promise: the error says the outer transaction was rolled back", q, err)
			}
			if b.name != "sqlitemem" { // on :memory: the table went with the outer transaction
				if _, err := db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (101, 'fr')"); err != nil {
					t.Errorf("insert after: %v", err)
				}
			} else {
				// nothing outlives the DB; a new outer transaction must still be there
				if _, err := db.ExecContext(ctx, "SAVEPOINT x"); err != nil {
					t.Error(err)
				}
			}
			f.closeAndCheck(db, before)
		})
	}
}

// The one connection killed from a plain connection: whatever the DB does
// next, nothing it writes survives Close, and nothing hangs.
func afrKilled(t *testing.T, b afrBackend) {
	if b.dialect == "sqlite" {
		return
	}
	for _, opts := range []string{"", "stmt_cache=0"} {
		t.Run("opts="+opts, func(t *testing.T) {
			f := afrNew(t, b)
			tn := f.table()
			before := f.snap()
			db := f.open(opts)
			ctx := afrCtx(t)
			if _, err := db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'fr')"); err != nil {
				t.Fatal(err)
			}
			var id int64
			idq, killq := "SELECT pg_backend_pid()", "SELECT pg_terminate_backend(%d)"
			if b.dialect == "mysql" {
				idq, killq = "SELECT CONNECTION_ID()", "KILL %d"
			}
			if err := db.QueryRowContext(ctx, idq).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if _, err := f.raw.ExecContext(ctx, fmt.Sprintf(killq, id)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			// The outer transaction went with the connection: the DB cannot
			// go on (docs/transactions.md). The call that meets the lost
			// connection gets the driver's error; every later one fails
			// promptly with ErrSharedLost, prepared too, and none writes.
			var errs []error
			for i := 0; i < 3; i++ {
				_, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, 'after')", tn, 101+i))
				errs = append(errs, err)
			}
			_, perr := db.PrepareContext(ctx, "INSERT INTO "+tn+" VALUES (?, 'prep')")
			var n int
			cerr := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tn).Scan(&n)
			t.Logf("after the kill: errors %v; prepare %v; count %v", errs, perr, cerr)
			for i, err := range append(errs[1:], perr, cerr) {
				if !errors.Is(err, databases.ErrSharedLost) {
					t.Errorf("call %d after the shared connection was killed: %v; want ErrSharedLost", i+2, err)
				}
			}
			if errs[0] == nil {
				t.Errorf("the first call after the kill succeeded")
			}
			f.closeAndCheck(db, before) // Close's error may name the lost connection
		})
	}
}

// Two sql.Conn: one in a transaction keeps the connection; the other waits,
// and goes on when the transaction ends (well within the 5 s); or fails
// after about 5 s, saying why.
func afrTwoConns(t *testing.T, b afrBackend) {
	f := afrNew(t, b)
	tn := f.table()
	before := f.snap()
	db := f.open("")
	ctx := afrCtx(t)
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c1.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'tx')")
	done := make(chan error, 1)
	go func() {
		_, err := c2.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (101, 'c2')")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the other conn after the commit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the other conn still waits 20 s after the transaction ended")
	}
	// the other way: the transaction stays
	tx, err = c1.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c2.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (102, 'c2')")
	el := time.Since(start)
	if err == nil || el < 4*time.Second || el > 20*time.Second {
		t.Errorf("the other conn while a transaction holds the connection: %v after %v; the promise: waits up to 5 s, then fails saying why", err, el)
	}
	tx.Rollback()
	if n := afrCount(t, db, tn); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
	c1.Close()
	c2.Close()
	if err := f.closeAndCheck(db, before); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// Rows left open while another connection needs it are read into memory:
// every value, its Go type and the column types as the raw driver gives them.
func afrRowsBuffered(t *testing.T, b afrBackend) {
	f := afrNew(t, b)
	tn := dbtest.Name("atkfrty")
	f.tables = append(f.tables, tn)
	var cols string
	switch b.dialect {
	case "postgres":
		cols = "id INT PRIMARY KEY, n NUMERIC(10,2), ts TIMESTAMPTZ, b BYTEA, j JSONB, bo BOOLEAN, f REAL, s VARCHAR(20), u UUID, a INT[]"
	case "mysql":
		cols = "id INT PRIMARY KEY, n DECIMAL(10,2), ts DATETIME(3), b BLOB, j JSON, bo BOOLEAN, f FLOAT, s VARCHAR(20), u BIGINT UNSIGNED, a TEXT"
	default:
		cols = "id INT PRIMARY KEY, n NUMERIC(10,2), ts DATETIME, b BLOB, j TEXT, bo BOOLEAN, f REAL, s VARCHAR(20), u INTEGER, a TEXT"
	}
	f.exec("CREATE TABLE " + tn + " (" + cols + ")")
	vals := "(%d, 12.5, '2024-01-02 03:04:05.678', 'xy', '{\"a\": 1}', true, 1.5, 'str', %s, %s)"
	u, a := "18446744073709551615", "'t'"
	if b.dialect == "postgres" {
		u, a = "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'{1,2}'"
	} else if b.dialect == "sqlite" {
		u = "9223372036854775807"
	}
	f.exec(fmt.Sprintf("INSERT INTO "+tn+" VALUES "+vals+", "+vals+", (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)", 1, u, a, 2, u, a))
	q := "SELECT * FROM " + tn + " ORDER BY id"
	read := func(db *sql.DB, buffer func()) (types []string, out []string) {
		ctx := afrCtx(t)
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		first := true
		for rows.Next() {
			if first && buffer != nil {
				buffer()
			}
			first = false
			ct, _ := rows.ColumnTypes()
			if types == nil {
				for _, c := range ct {
					l, lok := c.Length()
					p, s, dok := c.DecimalSize()
					nu, nok := c.Nullable()
					types = append(types, fmt.Sprintf("%s %s %v %d/%v %d,%d/%v %v/%v", c.Name(), c.DatabaseTypeName(), c.ScanType(), l, lok, p, s, dok, nu, nok))
				}
			}
			cn, _ := rows.Columns()
			v := make([]any, len(cn))
			p := make([]any, len(cn))
			for i := range v {
				p[i] = &v[i]
			}
			if err := rows.Scan(p...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%#v", v))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return
	}
	var rawTypes, rawVals []string
	if f.raw != nil {
		rawTypes, rawVals = read(f.raw, nil)
	}
	db := f.open("")
	plainTypes, plainVals := read(db, nil)
	bufTypes, bufVals := read(db, func() {
		c, err := db.Conn(afrCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ExecContext(afrCtx(t), "UPDATE "+tn+" SET s = 'changed' WHERE id = 3"); err != nil {
			t.Fatal(err)
		}
	})
	if rawTypes != nil && (strings.Join(rawTypes, "\n") != strings.Join(plainTypes, "\n") || strings.Join(rawVals, "\n") != strings.Join(plainVals, "\n")) {
		t.Errorf("force_rollback rows differ from the raw driver's:\nraw:\n%s\n%s\nfr:\n%s\n%s", strings.Join(rawTypes, "\n"), strings.Join(rawVals, "\n"), strings.Join(plainTypes, "\n"), strings.Join(plainVals, "\n"))
	}
	if strings.Join(bufTypes, "\n") != strings.Join(plainTypes, "\n") || strings.Join(bufVals, "\n") != strings.Join(plainVals, "\n") {
		t.Errorf("rows read into memory differ from rows read on:\nstreamed:\n%s\n%s\nbuffered:\n%s\n%s", strings.Join(plainTypes, "\n"), strings.Join(plainVals, "\n"), strings.Join(bufTypes, "\n"), strings.Join(bufVals, "\n"))
	}
	before := ""
	if f.raw != nil {
		db.Close()
		before = f.snap()
		db = f.open("")
		db.Exec("DELETE FROM " + tn)
	}
	f.closeAndCheck(db, before)
}

// A context cancelled before or during a statement: the statement ends, the
// outer transaction (and what it holds) goes on; nothing hangs.
func afrCancel(t *testing.T, b afrBackend) {
	f := afrNew(t, b)
	tn := f.table()
	before := f.snap()
	db := f.open("")
	ctx := afrCtx(t)
	if _, err := db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'fr')"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.ExecContext(cctx, "INSERT INTO "+tn+" VALUES (101, 'cancelled')"); err == nil {
		t.Error("insert with a cancelled context: no error")
	}
	if _, err := db.BeginTx(cctx, nil); err == nil {
		t.Error("BeginTx with a cancelled context: no error")
	}
	sleep := ""
	switch b.dialect {
	case "postgres":
		sleep = "INSERT INTO " + tn + " SELECT 102, 'slept' FROM pg_sleep(30)"
	case "mysql":
		sleep = "INSERT INTO " + tn + " SELECT 102, 'slept' FROM (SELECT SLEEP(30)) x"
	}
	if sleep != "" {
		for _, prepared := range []bool{false, true} {
			dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			start := time.Now()
			var err error
			if prepared {
				var st *sql.Stmt
				st, err = db.PrepareContext(ctx, sleep)
				if err == nil {
					_, err = st.ExecContext(dctx)
					st.Close()
				}
			} else {
				_, err = db.ExecContext(dctx, sleep)
			}
			dcancel()
			if err == nil || time.Since(start) > 20*time.Second {
				t.Errorf("cancelled during (prepared %v): %v after %v", prepared, err, time.Since(start))
			}
			if n := afrCount(t, db, tn+" WHERE id = 100"); n != 1 {
				t.Errorf("after a statement cancelled during (prepared %v): the row written before is gone (%d); the promise: the outer transaction goes on", prepared, n)
			}
		}
		// cancelled while rows are open
		qctx, qcancel := context.WithCancel(ctx)
		rows, err := db.QueryContext(qctx, "SELECT id FROM "+tn)
		if err == nil {
			rows.Next()
			qcancel()
			for rows.Next() {
			}
			rows.Close()
		}
		qcancel()
		if n := afrCount(t, db, tn+" WHERE id = 100"); n != 1 {
			t.Errorf("after rows cancelled: the row written before is gone (%d)", n)
		}
	}
	// a transaction whose context ends: database/sql rolls it back
	tctx, tcancel := context.WithCancel(ctx)
	tx, err := db.BeginTx(tctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.ExecContext(tctx, "INSERT INTO "+tn+" VALUES (103, 'tx')")
	tcancel()
	if err := tx.Commit(); err == nil {
		t.Error("Commit after its context was cancelled: no error")
	}
	if n := afrCount(t, db, tn); n != 3 {
		t.Errorf("after the cancelled transaction: %d rows, want 3", n)
	}
	// cancelled right before Close
	t2ctx, t2cancel := context.WithCancel(ctx)
	tx2, err := db.BeginTx(t2ctx, nil)
	if err == nil {
		tx2.ExecContext(t2ctx, "INSERT INTO "+tn+" VALUES (104, 'tx')")
	}
	t2cancel()
	if err := f.closeAndCheck(db, before); err != nil {
		t.Logf("Close: %v", err)
	}
}

// Close with things left open: returns (a transaction never ended after
// about 5 s, with an error saying so), and the database is as before.
func afrCloseOpen(t *testing.T, b afrBackend) {
	for _, what := range []string{"rows", "stmt", "conn", "tx", "tx-rows", "conn-rows"} {
		t.Run(what, func(t *testing.T) {
			f := afrNew(t, b)
			tn := f.table()
			before := f.snap()
			db := f.open("")
			ctx := afrCtx(t)
			db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'fr')")
			switch what {
			case "rows":
				rows, err := db.QueryContext(ctx, "SELECT id FROM "+tn)
				if err != nil {
					t.Fatal(err)
				}
				rows.Next()
			case "stmt":
				if _, err := db.PrepareContext(ctx, "INSERT INTO "+tn+" VALUES (?, 'st')"); err != nil {
					t.Fatal(err)
				}
			case "conn", "conn-rows":
				c, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				c.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (101, 'c')")
				if what == "conn-rows" {
					rows, _ := c.QueryContext(ctx, "SELECT id FROM "+tn)
					if rows != nil {
						rows.Next()
					}
				}
			case "tx", "tx-rows":
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				tx.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (101, 'tx')")
				if what == "tx-rows" {
					rows, _ := tx.QueryContext(ctx, "SELECT id FROM "+tn)
					if rows != nil {
						rows.Next()
					}
				}
			}
			start := time.Now()
			err := f.closeAndCheck(db, before)
			if strings.HasPrefix(what, "tx") && err == nil {
				t.Errorf("Close with a transaction never ended: nil after %v; the promise: an error saying so", time.Since(start))
			}
		})
	}
}

// BeginTx and Transact become savepoints; non-default options are an error;
// nested Transact behaves as in production, with errors and panics.
func afrTransact(t *testing.T, b afrBackend) {
	f := afrNew(t, b)
	tn := f.table()
	before := f.snap()
	db := f.open("")
	ctx := afrCtx(t)
	for _, o := range []*sql.TxOptions{{Isolation: sql.LevelSerializable}, {ReadOnly: true}} {
		if tx, err := db.BeginTx(ctx, o); err == nil {
			t.Errorf("BeginTx(%+v): no error; the promise: options other than the default are an error", o)
			tx.Rollback()
		}
	}
	ins := func(tx *sql.Tx, id int) {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, 'x')", tn, id)); err != nil {
			t.Errorf("insert %d: %v", id, err)
		}
	}
	boom := errors.New("boom")
	err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
		ins(tx, 10)
		if err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			ins(tx, 11)
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("inner Transact: %v", err)
		}
		func() {
			defer func() { recover() }()
			databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
				ins(tx, 12)
				panic("inner")
			})
		}()
		if err := databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			ins(tx, 13)
			return nil
		}); err != nil {
			t.Errorf("inner Transact: %v", err)
		}
		// a failing statement inside: the transaction goes on on PG (savepoint), as production on others
		_, err := tx.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (1, 'dup')")
		if err == nil {
			t.Error("duplicate key: no error")
		}
		return nil
	})
	if b.dialect == "postgres" {
		// production PG: the failed INSERT aborts the transaction, Commit fails
		t.Logf("Transact with a failed statement inside on PG: %v", err)
	} else if err != nil {
		t.Errorf("Transact: %v", err)
	}
	var ids []string
	rows, _ := db.QueryContext(ctx, "SELECT id FROM "+tn+" ORDER BY id")
	for rows != nil && rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if rows != nil {
		rows.Close()
	}
	t.Logf("rows after: %v", ids)
	if b.dialect != "postgres" && strings.Join(ids, ",") != "1,2,10,13" {
		t.Errorf("rows after nested Transact: %v, want 1,2,10,13", ids)
	}
	// a panic in the outermost Transact rolls it back; the DB stays usable
	func() {
		defer func() { recover() }()
		databases.Transact(ctx, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			ins(tx, 20)
			panic("outer")
		})
	}()
	if n := afrCount(t, db, tn+" WHERE id = 20"); n != 0 {
		t.Errorf("a panicking Transact's row is there")
	}
	// Commit twice; Rollback after Commit
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ins(tx, 30)
	if err := tx.Commit(); err != nil {
		t.Error(err)
	}
	if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("second Commit: %v", err)
	}
	// COMMIT inside a BeginTx transaction
	tx, _ = db.BeginTx(ctx, nil)
	ins(tx, 31)
	if _, err := tx.ExecContext(ctx, "COMMIT"); err == nil {
		t.Error("COMMIT in a BeginTx transaction: no error")
	}
	tx.Rollback()
	if err := f.closeAndCheck(db, before); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// Savepoint and RollbackAfter nest; out of order is an error; on a plain DB
// they are an error that says so.
func afrSavepoints(t *testing.T, b afrBackend) {
	f := afrNew(t, b)
	tn := f.table()
	before := f.snap()
	if f.raw != nil || b.name == "sqlitemem" {
		plain, err := databases.Open(f.url)
		if err != nil {
			t.Fatal(err)
		}
		if b.name == "sqlitemem" {
			plain.SetMaxOpenConns(1)
		}
		if _, err := databases.Savepoint(afrCtx(t), plain); err == nil || !strings.Contains(err.Error(), "force_rollback") {
			t.Errorf("Savepoint on a plain DB: %v; the promise: an error that says so", err)
		}
		plain.Close()
	}
	db := f.open("")
	ctx := afrCtx(t)
	ins := func(id int) {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, 'x')", tn, id)); err != nil {
			t.Errorf("insert %d: %v", id, err)
		}
	}
	r1, err := databases.Savepoint(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ins(10)
	r2, err := databases.Savepoint(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ins(11)
	// a user SAVEPOINT / ROLLBACK TO in between
	if _, err := db.ExecContext(ctx, "SAVEPOINT u1"); err != nil {
		t.Error(err)
	}
	ins(12)
	if _, err := db.ExecContext(ctx, "ROLLBACK TO SAVEPOINT u1"); err != nil {
		t.Error(err)
	}
	if n := afrCount(t, db, tn); n != 4 {
		t.Errorf("after ROLLBACK TO u1: %d rows, want 4", n)
	}
	if err := r2(); err != nil {
		t.Error(err)
	}
	if n := afrCount(t, db, tn); n != 3 {
		t.Errorf("after the inner rollback: %d rows, want 3", n)
	}
	if err := r1(); err != nil {
		t.Error(err)
	}
	if n := afrCount(t, db, tn); n != 2 {
		t.Errorf("after the outer rollback: %d rows, want 2", n)
	}
	// out of order: outer first, then the inner one must not undo anything later
	r1, _ = databases.Savepoint(ctx, db)
	ins(20)
	r2, _ = databases.Savepoint(ctx, db)
	ins(21)
	if err := r1(); err == nil {
		// done: the inner mark went with it; its rollback must not undo later work
		ins(22)
		if err := r2(); err == nil && afrCount(t, db, tn+" WHERE id = 22") != 1 {
			t.Errorf("the inner rollback after the outer one returned nil and undid a later write")
		}
	} else {
		// refused, the DB left as it is: innermost first then works
		if err := r2(); err != nil {
			t.Error(err)
		}
		if err := r1(); err != nil {
			t.Error(err)
		}
	}
	if n := afrCount(t, db, tn+" WHERE id >= 20"); n != 0 {
		t.Errorf("after both rollbacks: %d rows of theirs", n)
	}
	// a transaction begun after the mark and left open: rollback waits ~5 s and fails
	r3, _ := databases.Savepoint(ctx, db)
	c, _ := db.Conn(ctx)
	tx, err := c.BeginTx(ctx, nil)
	if err == nil {
		start := time.Now()
		if err := r3(); err == nil || time.Since(start) > 20*time.Second {
			t.Errorf("rollback with a transaction open: %v after %v; the promise: waits up to 5 s and fails", err, time.Since(start))
		}
		tx.Rollback()
	}
	c.Close()
	// RollbackAfter in nested subtests
	t.Run("outer", func(t *testing.T) {
		databases.RollbackAfter(t, db)
		ins(30)
		t.Run("inner", func(t *testing.T) {
			databases.RollbackAfter(t, db)
			ins(31)
		})
		if n := afrCount(t, db, tn+" WHERE id = 31"); n != 0 {
			t.Errorf("inner subtest's row kept")
		}
	})
	if n := afrCount(t, db, tn+" WHERE id IN (30, 31)"); n != 0 {
		t.Errorf("subtests' rows kept")
	}
	if err := f.closeAndCheck(db, before); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// DriverConn inside Raw: the real connection; pgx CopyFrom works, a failed
// one leaves the outer transaction usable; all of it rolled back at Close.
func afrDriverConnCopy(t *testing.T, b afrBackend) {
	f := afrNew(t, b)
	tn := f.table()
	before := f.snap()
	db := f.open("")
	ctx := afrCtx(t)
	db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (100, 'fr')")
	if b.dialect == "postgres" {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, rowsIn := range [][][]any{{{200, "c"}, {201, "c"}}, {{300, "c"}, {1, "dup"}}} {
			err := c.Raw(func(dc any) error {
				raw := databases.DriverConn(dc)
				if err, ok := raw.(error); ok {
					return err
				}
				return afrPgxCopy(ctx, raw, tn, rowsIn)
			})
			t.Logf("CopyFrom %v: %v", rowsIn, err)
		}
		c.Close()
		if n := afrCount(t, db, tn); n != 5 {
			t.Errorf("after a good and a failed CopyFrom: %d rows, want 5", n)
		}
	}
	n, err := databases.CopyFrom(ctx, db, tn, []string{"id", "v"}, databases.CopyRows([][]any{{400, "p"}, {401, "p"}}))
	if err != nil || n != 2 {
		t.Errorf("databases.CopyFrom: %d %v", n, err)
	}
	if _, err := databases.CopyFrom(ctx, db, tn, []string{"id", "v"}, databases.CopyRows([][]any{{402, "p"}, {1, "dup"}})); err == nil {
		t.Error("CopyFrom of a duplicate: no error")
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO "+tn+" VALUES (500, 'after')"); err != nil {
		t.Errorf("after a failed CopyFrom: %v", err)
	}
	if err := f.closeAndCheck(db, before); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func afrPgxCopy(ctx context.Context, raw any, tn string, rows [][]any) error {
	c, ok := raw.(*stdlib.Conn)
	if !ok {
		return fmt.Errorf("not a pgx connection: %T", raw)
	}
	_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{tn}, []string{"id", "v"}, pgx.CopyFromRows(rows))
	return err
}
