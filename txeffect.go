package databases

// What a statement does, read once from its text by the dialect's lexical
// rules (package sqlscan): the one reading every feature consults. Leak
// detection (leak.go), the rules inside a transaction (txguard.go),
// force_rollback's guard, the statement cache (stmtcache.go), the retry of
// a stale statement, Transact's retry after a lost connection (lost.go),
// the invalidation of cached plans after DDL (ddl.go) and replica routing
// with read-your-writes (replica.go) all decide from it; none reads SQL for
// itself. What cannot be told from the text counts as the worse case: a
// statement not known to be a read is a write, one not known to keep the
// transaction may commit it.

import (
	"fmt"
	"strings"

	"github.com/go-databases/databases/sqlscan"
)

// txEffect is what a statement may do to the transaction of its
// connection.
type txEffect uint8

const (
	// effBegin opens a transaction: BEGIN, START TRANSACTION, MySQL XA START.
	effBegin txEffect = 1 << iota
	// effEnd ends one: COMMIT, ROLLBACK, END, ABORT, PREPARE TRANSACTION,
	// MySQL XA END/PREPARE/COMMIT/ROLLBACK.
	effEnd
	// effAutocommit changes MySQL's autocommit or completion_type, which
	// decide whether later statements commit.
	effAutocommit
	// effSavepoint is SAVEPOINT, RELEASE or ROLLBACK TO; on SQLite a
	// SAVEPOINT outside a transaction also opens one.
	effSavepoint
	// effImplicitCommit: MySQL commits the open transaction before the
	// statement runs (DDL, LOCK TABLES, ANALYZE TABLE, …).
	effImplicitCommit
	// effUnknown: the statement runs other statements the text does not
	// show (MySQL CALL, EXECUTE, a BEGIN NOT ATOMIC block), so only the
	// server can tell what it did to the transaction.
	effUnknown
)

// stmtEffect is what a statement may do beyond the transaction: to the
// data, the schema and the session.
type stmtEffect uint8

const (
	// effWrite: the statement may change data, or is not known not to:
	// everything but a read. A read is SELECT, WITH, VALUES, TABLE, SHOW,
	// EXPLAIN, DESCRIBE, SET and the session and transaction statements,
	// with none of INSERT, UPDATE, DELETE, MERGE, INTO, a locking clause or
	// a call of a function not known to be read-only inside (a
	// data-modifying CTE, SELECT … INTO, EXPLAIN ANALYZE INSERT, nextval,
	// MariaDB's NEXT VALUE FOR).
	effWrite stmtEffect = 1 << iota
	// effSession changes session state that a prepared statement may have
	// been parsed under: USE, SET (but a MySQL user variable), RESET,
	// DISCARD, SET STATEMENT … FOR, a SQLite PRAGMA that assigns, ATTACH,
	// DETACH.
	effSession
	// effReadOnly changes, or overrides, whether the session may write:
	// default_transaction_read_only, transaction_read_only, tx_read_only,
	// read_only, READ WRITE (SET SESSION TRANSACTION, BEGIN, START
	// TRANSACTION), RESET ALL, DISCARD ALL, set_config of such a setting.
	effReadOnly
	// effDDL may change the schema, so that statements prepared before it
	// are stale: CREATE, ALTER, DROP, RENAME, TRUNCATE, ATTACH, DETACH, and
	// what runs statements the text does not show (effCalls).
	effDDL
	// effCalls runs statements the text does not show, on any dialect:
	// CALL, DO, EXECUTE, a MySQL BEGIN NOT ATOMIC block. A procedure may
	// commit, so such a call is never run again; it may also make the
	// session writable and then write, so it never runs on a replica
	// outside a transaction (replica.go).
	effCalls
	// effFunc calls a function not known to be read-only, whose body the
	// text does not show: it may change the session (its read-only state
	// included) for the statements after it, not itself.
	effFunc
	// effNames names a statement in the session for a later EXECUTE:
	// PREPARE (but PostgreSQL's PREPARE TRANSACTION) and DEALLOCATE, which
	// run where EXECUTE runs.
	effNames
	// effThenMore: a statement that may change the session (effSession,
	// effReadOnly, effCalls, effFunc, effNames) is followed by another in
	// the same text, which then runs in a session no check has seen: a
	// function may make a replica's session writable for the INSERT after
	// it, and the check after a call comes only after the whole text.
	effThenMore
)

// changesSession are the effects after which a later statement of the
// same text may run in a session that differs from the one checked.
const changesSession = effSession | effReadOnly | effCalls | effFunc | effNames

// txStatement is what a query does (all its statements together), and the
// first statement that does something to a transaction, for error
// messages.
type txStatement struct {
	effect  txEffect
	does    stmtEffect
	count   int    // statements with code; more than one are never cached or run again
	keyword string // its leading words, upper-cased: "START TRANSACTION"
	offset  int    // its byte offset in the query
}

// cacheable reports whether the statement cache may keep the query: one
// statement, which changes no session state its own parse depends on.
// database/sql's pgx cannot prepare several statements (42601), and a
// statement kept across USE or SET sql_mode answers as parsed before it.
func (ts *txStatement) cacheable() bool {
	return ts.count <= 1 && ts.does&effSession == 0
}

// rerunnable reports whether a call that failed before doing anything, by
// the server's word (a stale statement), may run again: only one
// statement, which neither ends a transaction nor runs others, so that no
// part of it can have been applied. A text of several statements may fail
// after an earlier one committed (INSERT; COMMIT; EXECUTE p).
func (ts *txStatement) rerunnable() bool {
	return ts.count <= 1 && ts.effect&(effBegin|effEnd|effImplicitCommit|effUnknown) == 0 && ts.does&effCalls == 0
}

// primaryOnly reports whether the statement must not run on a replica
// outside a transaction: it runs statements the text does not show
// (effCalls), which may make the replica's session writable and then
// write in the same call, it names a statement for such an EXECUTE
// (effNames), which must find it in the same session, or it is a text of
// several statements in which one that may change the session is followed
// by another (effThenMore), which no check could come between. One that
// would change the read-only state is not sent to the primary but refused
// (replicaMay).
func (ts *txStatement) primaryOnly() bool {
	return ts.does&(effCalls|effNames) != 0 || ts.does&(effThenMore|effReadOnly) == effThenMore
}

// opaque reports whether the statement runs code the text does not show (a
// procedure, a block, a prepared statement, a function not known to be
// read-only), which may have changed the session's read-only state.
func (ts *txStatement) opaque() bool {
	return ts.does&(effCalls|effFunc) != 0
}

// commitPoint reports whether the statement commits the open transaction
// on backend b, or may: MySQL's implicit commits and what runs statements
// the text does not show.
func (ts *txStatement) commitPoint(b backend) bool {
	return ts.effect&(effImplicitCommit|effUnknown) != 0 && b.implicitCommits()
}

// classify reads every statement of query: what each does to the
// transaction, the data, the schema and the session. It allocates nothing;
// connections keep its answer per text (conn.classify).
func classify(b backend, mode sqlscan.Mode, query string) txStatement {
	var ts txStatement
	sd := b.scanDialect()
	s := sqlscan.New(sd, mode, query)
	named := false
	for {
		st, ok := s.NextStatement()
		if !ok {
			return ts
		}
		if !st.Code {
			continue
		}
		ts.count++
		eff := statementEffect(b, mode, &s, &st)
		does := otherEffects(b, sd, mode, &s, &st)
		// Errors name the first statement that does something to the
		// transaction, or else the first that changes the read-only state
		// or runs others.
		if eff != 0 && ts.effect == 0 || does&(effReadOnly|effCalls) != 0 && ts.effect == 0 && !named {
			ts.keyword, ts.offset = leadingWords(&st, eff), st.Start
			named = true
		}
		if ts.does&changesSession != 0 {
			does |= effThenMore
		}
		ts.effect |= eff
		ts.does |= does
	}
}

// otherEffects is what one statement may do beyond the transaction: to
// the data, the schema and the session; s is positioned just past it. The
// backend reads the statements of its own grammar first (b.otherEffect).
func otherEffects(b backend, sd sqlscan.Dialect, mode sqlscan.Mode, s *sqlscan.Scanner, st *sqlscan.Statement) stmtEffect {
	if eff, ok := b.otherEffect(mode, s.Text(), *st); ok {
		return eff
	}
	kw := st.Keyword()
	q := s.Text()[st.Start:st.End]
	switch {
	case kw == "":
		return effWrite
	case isWord(kw, "SELECT"), isWord(kw, "WITH"), isWord(kw, "VALUES"), isWord(kw, "TABLE"), isWord(kw, "EXPLAIN"):
		return scanBody(sd, mode, q, false)
	case isWord(kw, "SHOW"), isWord(kw, "DESCRIBE"), isWord(kw, "DESC"), isWord(kw, "LISTEN"), isWord(kw, "UNLISTEN"),
		isWord(kw, "COMMIT"), isWord(kw, "ROLLBACK"), isWord(kw, "SAVEPOINT"), isWord(kw, "RELEASE"), isWord(kw, "END"),
		isWord(kw, "ABORT"), isWord(kw, "XA"):
		return 0
	case isWord(kw, "PREPARE"), isWord(kw, "DEALLOCATE"):
		if st.Is("PREPARE", "TRANSACTION") {
			return 0
		}
		return effNames
	case isWord(kw, "SET"):
		return scanBody(sd, mode, q, true) | effSession
	case isWord(kw, "USE"):
		return effSession
	case isWord(kw, "RESET"), isWord(kw, "DISCARD"):
		eff := effSession | scanBody(sd, mode, q, true)
		if strings.EqualFold(st.Word(1), "ALL") {
			eff |= effReadOnly
		}
		return eff
	case isWord(kw, "BEGIN"):
		return scanBody(sd, mode, q, true) &^ effWrite
	case isWord(kw, "START"):
		if st.Is("START", "TRANSACTION") {
			return scanBody(sd, mode, q, true) &^ effWrite
		}
		return effWrite
	case isWord(kw, "PRAGMA"):
		if strings.IndexByte(q, '=') >= 0 {
			return effWrite | effSession
		}
		return 0
	case isWord(kw, "CALL"), isWord(kw, "DO"), isWord(kw, "EXECUTE"):
		return effWrite | effDDL | effCalls
	case isWord(kw, "CREATE"), isWord(kw, "ALTER"), isWord(kw, "DROP"), isWord(kw, "RENAME"), isWord(kw, "TRUNCATE"):
		return effWrite | effDDL
	case isWord(kw, "ATTACH"), isWord(kw, "DETACH"):
		return effWrite | effDDL | effSession
	}
	return effWrite
}

// scanBody reads the tokens of one statement q for writes in disguise
// (effWrite) and, with settings (a SET, RESET, BEGIN or START statement),
// for the names of the session's read-only settings and READ WRITE
// (effReadOnly). In any statement a set_config call counts as changing
// the read-only state unless its setting is a literal naming another.
func scanBody(sd sqlscan.Dialect, mode sqlscan.Mode, q string, settings bool) stmtEffect {
	var eff stmtEffect
	sc := sqlscan.New(sd, mode, q)
	first := true
	var prev, prev2, prev3 sqlscan.Token // the last tokens but comments
	// setConfig: 1 just after "set_config(", 2 after a plain literal
	// naming another setting, which must be followed by ",".
	setConfig := 0
	for {
		t := sc.Next()
		if t.Kind == sqlscan.Comment {
			continue
		}
		switch setConfig {
		case 1:
			if t.Kind == sqlscan.String && plainOtherSetting(q[t.Start:t.End]) {
				setConfig = 2
			} else {
				eff |= effReadOnly | effSession
				setConfig = 0
			}
		case 2:
			if t.Kind != sqlscan.Punct || q[t.Start] != ',' {
				eff |= effReadOnly | effSession
			}
			setConfig = 0
		}
		switch t.Kind {
		case sqlscan.EOF:
			return eff
		case sqlscan.Word:
			w := q[t.Start:t.End]
			switch {
			case first:
			case isWord(w, "INSERT"), isWord(w, "UPDATE"), isWord(w, "DELETE"), isWord(w, "MERGE"), isWord(w, "INTO"),
				isWord(w, "SHARE"), isWord(w, "COPY"):
				eff |= effWrite
			case isWord(w, "VALUE") && prev.Kind == sqlscan.Word && isWord(q[prev.Start:prev.End], "NEXT"):
				eff |= effWrite // MariaDB's NEXT VALUE FOR seq, nextval without parentheses
			case settings && readOnlySetting(w):
				eff |= effReadOnly
			case settings && isWord(w, "WRITE") && prev.Kind == sqlscan.Word && isWord(q[prev.Start:prev.End], "READ"):
				eff |= effReadOnly
			}
			first = false
		case sqlscan.Ident:
			// `tx_read_only`, "default_transaction_read_only": the
			// servers compare these names unquoted and without case.
			// A U&"…" name may spell one with escapes: taken as one.
			if id := q[t.Start:t.End]; settings && (id[0] == 'U' || id[0] == 'u' || readOnlySetting(unquote(id))) {
				eff |= effReadOnly
			}
			first = false
		case sqlscan.Punct:
			if q[t.Start] == '(' && (prev.Kind == sqlscan.Word || prev.Kind == sqlscan.Ident) && !first {
				name := q[prev.Start:prev.End]
				if prev.Kind == sqlscan.Ident {
					name = unquote(name) // "set_config", `f`: the function itself
				}
				if strings.EqualFold(name, "set_config") {
					setConfig = 1
				}
				// A qualified name (s.abs, s . "abs") is a function of
				// that schema, a user's even when named like a built-in,
				// but in PostgreSQL's pg_catalog, where the built-ins are.
				qualified := prev2.Kind == sqlscan.Punct && q[prev2.Start] == '.'
				builtin := !qualified || sd == sqlscan.Postgres && (prev3.Kind == sqlscan.Word || prev3.Kind == sqlscan.Ident) &&
					strings.EqualFold(unquote(q[prev3.Start:prev3.End]), "pg_catalog")
				if !builtin || !readFunction(name) {
					eff |= effWrite | effFunc
				}
			}
		}
		prev, prev2, prev3 = t, prev, prev2
	}
}

// unquote returns a quoted identifier ("a", `a`, [a]) without its quotes;
// a doubled quote inside stays doubled, which no name compared here holds.
func unquote(id string) string {
	if len(id) >= 2 {
		switch id[0] {
		case '"', '`', '[':
			return id[1 : len(id)-1]
		}
	}
	return id
}

// plainOtherSetting reports whether lit, the first argument of a
// set_config call, is a plain string literal (no prefix, no escape) that
// names a setting other than the read-only ones. Anything else (an
// E” string, a concatenation, a parameter, a subquery) may name one.
func plainOtherSetting(lit string) bool {
	return len(lit) >= 2 && lit[0] == '\'' && strings.IndexByte(lit, '\\') < 0 && !containsFold(lit, "read_only")
}

// userVariablesOnly reports whether q, a MySQL SET statement, assigns
// only user variables (SET @a = 1, @b := 2), which no prepared statement
// was parsed under; SET @a = 1, SESSION sql_mode = … changes the session.
func userVariablesOnly(mode sqlscan.Mode, q string) bool {
	sc := sqlscan.New(sqlscan.MySQL, mode, q)
	depth, target, first := 0, false, true
	for {
		t := sc.Next()
		switch t.Kind {
		case sqlscan.EOF:
			return true
		case sqlscan.Comment:
			continue
		case sqlscan.Punct:
			switch q[t.Start] {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				if depth == 0 {
					target = true
					continue
				}
			}
		}
		if first {
			first, target = false, true // SET
			continue
		}
		if target {
			w := q[t.Start:t.End]
			if t.Kind != sqlscan.Word || !strings.HasPrefix(w, "@") || strings.HasPrefix(w, "@@") {
				return false
			}
			target = false
		}
	}
}

// readOnlySetting reports whether w, a word of a SET or RESET statement,
// names a setting of the session's read-only state, in any spelling
// (@@session.transaction_read_only reads as @@session . transaction_read_only).
func readOnlySetting(w string) bool {
	w = strings.TrimLeft(w, "@")
	return strings.EqualFold(w, "default_transaction_read_only") || strings.EqualFold(w, "transaction_read_only") ||
		strings.EqualFold(w, "tx_read_only") || strings.EqualFold(w, "read_only")
}

// readFunction reports whether name, a word before an opening parenthesis,
// is known not to write: a keyword (IN (…), AS (…)) or a built-in
// function of one of the three dialects that only reads. Any other call
// (nextval, a user's function) counts as a write.
func readFunction(name string) bool {
	if len(name) > 32 {
		return false
	}
	var b [32]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return readFunctions[string(b[:len(name)])]
}

// readFunctions are the words of readFunction, in lower case.
var readFunctions = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		select from join on using where and or not as in exists any all some values over filter within
		between like ilike when then else case having limit offset lateral cast array row distinct by
		is null with union intersect except group order partition window rows range returning
		count sum avg min max coalesce nullif greatest least lower upper length char_length
		character_length octet_length bit_length substr substring trim ltrim rtrim btrim concat concat_ws
		abs round floor ceil ceiling mod power pow sqrt exp ln log log10 sign trunc convert
		now current_timestamp current_date current_time localtime localtimestamp date time datetime
		julianday strftime unixepoch extract date_trunc date_part date_format date_add date_sub datediff
		timestampdiff to_char to_date to_timestamp to_number age make_date make_interval
		row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
		json_extract json_object json_array json_value json_query json_build_object jsonb_build_object
		json_build_array jsonb_build_array json_agg jsonb_agg to_json to_jsonb json_array_length
		jsonb_array_length json_each jsonb_each json_typeof jsonb_typeof array_agg string_agg group_concat
		unnest generate_series array_length cardinality array_position array_to_string string_to_array
		if ifnull iif nvl isnull typeof pg_typeof version database schema current_database current_schema
		current_user session_user user system_user pg_is_in_recovery inet_server_port inet_server_addr
		pg_backend_pid connection_id found_rows row_count pg_current_wal_lsn pg_current_wal_insert_lsn
		pg_last_wal_replay_lsn md5 sha1 sha2 hex unhex quote random rand uuid gen_random_uuid format
		printf replace position strpos instr locate left right lpad rpad reverse repeat split_part
		regexp_replace regexp_matches regexp_match regexp_like regexp_substr bool_and bool_or every
		char chr ascii ord unicode encode decode to_hex bit_and bit_or bit_xor std stddev variance
		var_pop var_samp stddev_pop stddev_samp zeroblob randomblob glob likelihood unlikely total
		changes last_insert_rowid sqlite_version sleep pg_sleep`) {
		m[w] = true
	}
	return m
}()

// plainKeyword reports whether a statement starting with kw does nothing to
// the transaction on any dialect: the statements programs run all the time.
func plainKeyword(kw string) bool {
	switch len(kw) {
	case 4:
		return isWord(kw, "WITH") || isWord(kw, "SHOW")
	case 6:
		switch kw[0] &^ 0x20 {
		case 'S':
			return isWord(kw, "SELECT")
		case 'I':
			return isWord(kw, "INSERT")
		case 'U':
			return isWord(kw, "UPDATE")
		case 'D':
			return isWord(kw, "DELETE")
		case 'V':
			return isWord(kw, "VALUES")
		}
	case 7:
		return isWord(kw, "REPLACE") || isWord(kw, "EXPLAIN")
	}
	return false
}

// isWord compares a word of letters, digits and _ with an upper-case
// keyword, ignoring ASCII case; cheaper than strings.EqualFold, which this
// runs for every statement.
func isWord(w, upper string) bool {
	if len(w) != len(upper) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i]&^0x20 != upper[i] {
			return false
		}
	}
	return true
}

// statementEffect is the effect of one statement; s is positioned just past
// it, and is only read again through a scanner of its own. The backend
// reads the statements of its own grammar first (b.statementEffect).
func statementEffect(b backend, mode sqlscan.Mode, s *sqlscan.Scanner, st *sqlscan.Statement) txEffect {
	kw := st.Keyword()
	if kw == "" || plainKeyword(kw) {
		return 0
	}
	if eff, ok := b.statementEffect(mode, s.Text(), *st); ok {
		return eff
	}
	switch strings.ToUpper(kw) {
	case "BEGIN":
		return effBegin
	case "START":
		if st.Is("START", "TRANSACTION") {
			return effBegin
		}
	case "COMMIT", "END", "ABORT":
		return effEnd
	case "ROLLBACK":
		for i := 1; i < 4; i++ {
			if strings.EqualFold(st.Word(i), "TO") {
				return effSavepoint
			}
		}
		return effEnd
	case "SAVEPOINT", "RELEASE":
		return effSavepoint
	}
	return 0
}

// setsAutocommit reports whether a MySQL SET statement assigns autocommit
// or completion_type, in any of its spellings (autocommit, @@autocommit,
// @@session.autocommit, SESSION autocommit, `autocommit`).
func setsAutocommit(text string, st *sqlscan.Statement) bool {
	q := text[st.Start:st.End]
	if !containsFold(q, "autocommit") && !containsFold(q, "completion_type") {
		return false
	}
	sub := sqlscan.New(sqlscan.MySQL, 0, q)
	for {
		t := sub.Next()
		switch t.Kind {
		case sqlscan.EOF:
			return false
		case sqlscan.Word, sqlscan.Ident:
			w := unquote(strings.TrimPrefix(strings.TrimPrefix(q[t.Start:t.End], "@"), "@"))
			if strings.EqualFold(w, "autocommit") || strings.EqualFold(w, "completion_type") {
				return true
			}
		}
	}
}

// leadingWords names a statement in errors by its keywords, never by its
// literals: "START TRANSACTION", "SET", "CREATE TABLE".
func leadingWords(st *sqlscan.Statement, eff txEffect) string {
	n := 1
	switch {
	case st.Is("START", "TRANSACTION"), st.Is("XA"), st.Is("ROLLBACK", "TO"), st.Is("PREPARE", "TRANSACTION"),
		eff == effImplicitCommit, st.Is("BEGIN", "NOT"):
		n = 2
	}
	if st.Is("BEGIN", "NOT", "ATOMIC") {
		n = 3
	}
	var b strings.Builder
	for i := 0; i < n && st.Word(i) != ""; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToUpper(st.Word(i)))
	}
	return b.String()
}

// refuse is the error for a statement that cannot run where it was sent;
// where is "" or a prefix such as "force_rollback: ".
func (ts txStatement) refuse(where, why string) error {
	return fmt.Errorf("databases: %s%s (byte offset %d) %s", where, ts.keyword, ts.offset, why)
}

func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}

// factsKept bounds the texts whose reading a connection keeps; past it the
// set starts again.
const factsKept = 256

// stmtMemo is a connection's memory of what the texts it ran do: the
// answer for the last one is found again with a string compare, and those
// of the others in a map.
type stmtMemo struct {
	lastQuery string
	lastTx    txStatement
	facts     map[string]txStatement
}

// read returns what query does, read once per text: the memo's own copy,
// which the next read replaces. The last text's answer is found here,
// inlined in the caller; the others' in lookUp. The empty text, the last
// before any, does nothing: its answer is the zero txStatement the memo
// starts with.
func (m *stmtMemo) read(cn *connector, query string) *txStatement {
	if query != m.lastQuery {
		m.lookUp(cn, query)
	}
	return &m.lastTx
}

// lookUp makes query the last text: its answer from the map, or read now in
// cn's dialect.
func (m *stmtMemo) lookUp(cn *connector, query string) {
	ts, ok := m.facts[query]
	if !ok {
		ts = classify(cn.backend, cn.cfg.MySQLMode, query)
		if m.facts == nil || len(m.facts) >= factsKept {
			m.facts = make(map[string]txStatement)
		}
		if len(query) <= stmtCacheMaxQuery {
			m.facts[query] = ts
		}
	}
	m.lastQuery, m.lastTx = query, ts
}
