package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"database/sql/driver"
	"errors"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// pos returns positional arguments as database/sql hands them to a driver.
func pos(values ...any) []driver.NamedValue {
	args := make([]driver.NamedValue, len(values))
	for i, v := range values {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return args
}

// named returns named arguments from name, value pairs, as sql.Named makes them.
func named(pairs ...any) []driver.NamedValue {
	args := make([]driver.NamedValue, len(pairs)/2)
	for i := range args {
		args[i] = driver.NamedValue{Ordinal: i + 1, Name: pairs[2*i].(string), Value: pairs[2*i+1]}
	}
	return args
}

type rewriteCase struct {
	name  string
	d     Dialect
	m     sqlscan.Mode // MySQL: the sql_mode flags to lex with
	in    string
	args  []driver.NamedValue
	want  string // native query
	bound []any  // values Bind returns, in order
	err   string // error substring; Parse or Bind must fail
	off   int    // error offset
}

// rewriteCases is the shared table: the unit test runs it and the fuzz
// targets start from its queries.
var rewriteCases = []rewriteCase{
	// Postgres: positional.
	{name: "pg/positional", d: Postgres, in: "SELECT * FROM t WHERE a = ? AND b = ?", args: pos(1, 2),
		want: "SELECT * FROM t WHERE a = $1 AND b = $2", bound: []any{1, 2}},
	{name: "pg/?AND gets a space", d: Postgres, in: "SELECT * FROM t WHERE a=?AND b=?", args: pos(1, 2),
		want: "SELECT * FROM t WHERE a=$1 AND b=$2", bound: []any{1, 2}},
	{name: "pg/identifier before ? gets a space", d: Postgres, in: "SELECT x FROM t LIMIT 10?", args: pos(1),
		want: "SELECT x FROM t LIMIT 10 $1", bound: []any{1}},
	{name: "pg/non-ASCII after ? gets a space", d: Postgres, in: "SELECT ?日本", args: pos(1),
		want: "SELECT $1 日本", bound: []any{1}},
	{name: "pg/digit after ?", d: Postgres, in: "SELECT ?1", args: pos(1),
		want: "SELECT $1 1", bound: []any{1}},
	{name: "pg/ten placeholders", d: Postgres, in: "VALUES (?,?,?,?,?,?,?,?,?,?)", args: pos(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
		want: "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", bound: []any{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	{name: "pg/time literal", d: Postgres, in: "SELECT '10:30' WHERE x = ?", args: pos(1),
		want: "SELECT '10:30' WHERE x = $1", bound: []any{1}},
	{name: "pg/url literal", d: Postgres, in: "SELECT 'http://h/?x', ?", args: pos(1),
		want: "SELECT 'http://h/?x', $1", bound: []any{1}},
	{name: "pg/doubled quote", d: Postgres, in: "SELECT 'it''s ?', ?", args: pos(1),
		want: "SELECT 'it''s ?', $1", bound: []any{1}},
	{name: "pg/backslash is literal in standard strings", d: Postgres, in: `SELECT 'a\' = ?`, args: pos(1),
		want: `SELECT 'a\' = $1`, bound: []any{1}},
	{name: "pg/cast", d: Postgres, in: "SELECT x::int FROM t WHERE y = ?", args: pos(1),
		want: "SELECT x::int FROM t WHERE y = $1", bound: []any{1}},
	{name: "pg/named then cast", d: Postgres, in: "SELECT :id::int", args: named("id", "7"),
		want: "SELECT $1::int", bound: []any{"7"}},
	{name: "pg/row cast", d: Postgres, in: "SELECT (1,'a')::t, ?", args: pos(1),
		want: "SELECT (1,'a')::t, $1", bound: []any{1}},
	{name: "pg/jsonb ?", d: Postgres, in: "SELECT * FROM t WHERE data ?? 'k'",
		want: "SELECT * FROM t WHERE data ? 'k'"},
	{name: "pg/jsonb ?| with positional", d: Postgres, in: "SELECT * FROM t WHERE data ??| array['a'] AND id = ?", args: pos(1),
		want: "SELECT * FROM t WHERE data ?| array['a'] AND id = $1", bound: []any{1}},
	{name: "pg/jsonb ?& with named", d: Postgres, in: "SELECT * FROM t WHERE data ??& :keys", args: named("keys", "k"),
		want: "SELECT * FROM t WHERE data ?& $1", bound: []any{"k"}},
	{name: "pg/?? inside a string stays", d: Postgres, in: "SELECT '??', ?", args: pos(1),
		want: "SELECT '??', $1", bound: []any{1}},
	{name: "pg/??? is ?? then ?", d: Postgres, in: "SELECT a ??? b", args: pos(1),
		want: "SELECT a ?$1 b", bound: []any{1}},
	{name: "pg/dollar quote", d: Postgres, in: "SELECT $$ ? $$, ?", args: pos(1),
		want: "SELECT $$ ? $$, $1", bound: []any{1}},
	{name: "pg/tagged dollar quote", d: Postgres, in: "SELECT $fn$ ? $x$ :a $$ $fn$ || ?", args: pos(1),
		want: "SELECT $fn$ ? $x$ :a $$ $fn$ || $1", bound: []any{1}},
	{name: "pg/E string", d: Postgres, in: `SELECT E'it\'s ?', ?`, args: pos(1),
		want: `SELECT E'it\'s ?', $1`, bound: []any{1}},
	{name: "pg/e string ends after escaped backslash", d: Postgres, in: `SELECT e'a\\' = ?`, args: pos(1),
		want: `SELECT e'a\\' = $1`, bound: []any{1}},
	{name: "pg/E needs a token boundary", d: Postgres, in: `SELECT typE'a\' = ?`, args: pos(1),
		want: `SELECT typE'a\' = $1`, bound: []any{1}},
	{name: "pg/lone $ before E string", d: Postgres, in: `SELECT $E'x\'?', ?`, args: pos(1),
		want: `SELECT $E'x\'?', $1`, bound: []any{1}},
	{name: "pg/U& B X strings", d: Postgres, in: `SELECT U&'d\0061t?', B'101', X'1F?', ?`, args: pos(1),
		want: `SELECT U&'d\0061t?', B'101', X'1F?', $1`, bound: []any{1}},
	{name: "pg/quoted identifier", d: Postgres, in: `SELECT "col?", "a""?b" FROM t WHERE x = ?`, args: pos(1),
		want: `SELECT "col?", "a""?b" FROM t WHERE x = $1`, bound: []any{1}},
	{name: "pg/line comment", d: Postgres, in: "SELECT 1 -- why?\n, ?", args: pos(1),
		want: "SELECT 1 -- why?\n, $1", bound: []any{1}},
	{name: "pg/line comment ends at CR", d: Postgres, in: "SELECT 1 -- why?\r?", args: pos(1),
		want: "SELECT 1 -- why?\r$1", bound: []any{1}},
	{name: "pg/nested comment", d: Postgres, in: "SELECT /* ? /* ? */ ? */ ?", args: pos(1),
		want: "SELECT /* ? /* ? */ ? */ $1", bound: []any{1}},
	{name: "pg/# is an operator", d: Postgres, in: "SELECT 5 # ?", args: pos(1),
		want: "SELECT 5 # $1", bound: []any{1}},
	{name: "pg/minus is not a comment", d: Postgres, in: "SELECT 1-?", args: pos(1),
		want: "SELECT 1-$1", bound: []any{1}},
	{name: "pg/full text @@ and @name", d: Postgres, in: "SELECT * FROM d WHERE tsv@@q AND id=@id", args: named("id", 1),
		want: "SELECT * FROM d WHERE tsv@@q AND id=$1", bound: []any{1}},
	{name: "pg/containment operators", d: Postgres, in: "SELECT * FROM t WHERE tags @> ? AND ? <@ tags AND a <@b", args: pos(1, 2),
		want: "SELECT * FROM t WHERE tags @> $1 AND $2 <@ tags AND a <@b", bound: []any{1, 2}},
	{name: "pg/@name after ( and ,", d: Postgres, in: "SELECT f(@a,@b)", args: named("a", 1, "b", 2),
		want: "SELECT f($1,$2)", bound: []any{1, 2}},
	{name: "pg/@name after a comment", d: Postgres, in: "SELECT /*c*/@id", args: named("id", 1),
		want: "SELECT /*c*/$1", bound: []any{1}},
	{name: "pg/unicode name", d: Postgres, in: "SELECT '日本?' :名前", args: named("名前", "v"),
		want: "SELECT '日本?' $1", bound: []any{"v"}},
	{name: "pg/name with combining mark", d: Postgres, in: "SELECT :नाम", args: named("नाम", "v"),
		want: "SELECT $1", bound: []any{"v"}},
	{name: "pg/repeated name reuses number", d: Postgres, in: "SELECT :a, :b, :a", args: named("b", 2, "a", 1),
		want: "SELECT $1, $2, $1", bound: []any{1, 2}},
	{name: "pg/:a and @a are one parameter", d: Postgres, in: "SELECT :a, @a", args: named("a", 1),
		want: "SELECT $1, $1", bound: []any{1}},
	{name: "pg/? is an operand before @", d: Postgres, in: "SELECT ?@a", args: pos(1),
		err: "named parameter @a follows positional ? parameters", off: 8},
	{name: "pg/?? is an operator before @", d: Postgres, in: "SELECT a ??@x",
		want: "SELECT a ?@x"},
	{name: "pg/adjacent names", d: Postgres, in: "SELECT :a@b", args: named("a", 1, "b", 2),
		want: "SELECT $1 $2", bound: []any{1, 2}},
	{name: "pg/array slices", d: Postgres, in: "SELECT arr[1:n], arr[lo:hi], arr[: n], arr[n:], arr[?:?] FROM t", args: pos(1, 2),
		want: "SELECT arr[1:n], arr[lo:hi], arr[: n], arr[n:], arr[$1:$2] FROM t", bound: []any{1, 2}},
	{name: "pg/slice bounds after operands", d: Postgres, in: `SELECT a[x:y], a[(x):y], a[b[1]:y], a['1':y], a["x":y], a[f(x):y], a[1.:y], a[x::int:y], a[t.from:t.to], a[$1:y]`, args: pos(1),
		want: `SELECT a[x:y], a[(x):y], a[b[1]:y], a['1':y], a["x":y], a[f(x):y], a[1.:y], a[x::int:y], a[t.from:t.to], a[$1:y]`, bound: []any{1}},
	{name: "pg/named parameters in ARRAY[ ]", d: Postgres, in: "SELECT ARRAY[:a, :b], ARRAY[[:a,:b],[:b,:a]]", args: named("a", 1, "b", 2),
		want: "SELECT ARRAY[$1, $2], ARRAY[[$1,$2],[$2,$1]]", bound: []any{1, 2}},
	{name: "pg/named subscript", d: Postgres, in: "SELECT (ARRAY[10,20,30])[:i], arr[ :i ], arr[\n:i]", args: named("i", 2),
		want: "SELECT (ARRAY[10,20,30])[$1], arr[ $1 ], arr[\n$1]", bound: []any{2}},
	{name: "pg/named slice bounds", d: Postgres, in: "SELECT arr[:lo : :hi], arr[:lo:hi], arr[:lo::int:hi]", args: named("lo", 1, "hi", 2),
		want: "SELECT arr[$1 : $2], arr[$1:hi], arr[$1::int:hi]", bound: []any{1, 2}},
	{name: "pg/named after an operator or ( in [ ]", d: Postgres, in: "SELECT arr[:i+1], arr[1+:i], arr[f(:i)], arr[x-:i:y], arr[x:-:i]", args: named("i", 1),
		want: "SELECT arr[$1+1], arr[1+$1], arr[f($1)], arr[x-$1:y], arr[x:-$1]", bound: []any{1}},
	{name: "pg/named after a keyword in [ ]", d: Postgres, in: "SELECT arr[CASE WHEN :f THEN :a ELSE :b END], arr[(SELECT :a LIMIT 1)], arr[x:then]", args: named("f", true, "a", 1, "b", 2),
		want: "SELECT arr[CASE WHEN $1 THEN $2 ELSE $3 END], arr[(SELECT $2 LIMIT 1)], arr[x:then]", bound: []any{true, 1, 2}},
	{name: "pg/comments before a colon in [ ]", d: Postgres, in: "SELECT arr[x /* c */ :y], arr[/* c */ :i], arr[ -- x \n:i], arr[x -- c\n/* d */:y]", args: named("i", 1),
		want: "SELECT arr[x /* c */ :y], arr[/* c */ $1], arr[ -- x \n$1], arr[x -- c\n/* d */:y]", bound: []any{1}},
	{name: "pg/jsonpath @? after an operand", d: Postgres, in: "SELECT doc @? '$.a', (doc)@?'$.b', doc->'x' @? '$' FROM t WHERE id = ?", args: pos(1),
		want: "SELECT doc @? '$.a', (doc)@?'$.b', doc->'x' @? '$' FROM t WHERE id = $1", bound: []any{1}},
	{name: "pg/jsonpath @? after a parameter or comment", d: Postgres, in: "SELECT :d @? '$', '{}' @? :p, d /*c*/ @? :p", args: named("p", "$", "d", "{}"),
		want: "SELECT $1 @? '$', '{}' @? $2, d /*c*/ @? $2", bound: []any{"{}", "$"}},
	{name: "pg/jsonpath @? after a ?", d: Postgres, in: "SELECT ? @? '$', ?@?'$'", args: pos(1, 2),
		want: "SELECT $1 @? '$', $2@?'$'", bound: []any{1, 2}},
	{name: "pg/@?? is @? anywhere", d: Postgres, in: "SELECT doc @?? '$.a', @?? x, ?", args: pos(1),
		want: "SELECT doc @? '$.a', @? x, $1", bound: []any{1}},
	{name: "pg/[:i] and @? after ; and in comments", d: Postgres, in: "SELECT 1; SELECT arr[:i] /* arr[:j] @? */ -- d @? '$'\n, d @? '$'", args: named("i", 1),
		want: "SELECT 1; SELECT arr[$1] /* arr[:j] @? */ -- d @? '$'\n, d @? '$'", bound: []any{1}},
	{name: "pg/prefix @ before a placeholder", d: Postgres, in: "SELECT @?, (@?), 1 + @?, x FROM t WHERE @? > 0 AND y <@? AND z=@?", args: pos(1, 2, 3, 4, 5, 6),
		want: "SELECT @$1, (@$2), 1 + @$3, x FROM t WHERE @$4 > 0 AND y <@$5 AND z=@$6", bound: []any{1, 2, 3, 4, 5, 6}},
	{name: "pg/:= is not a name", d: Postgres, in: "SELECT f(a := :x)", args: named("x", 1),
		want: "SELECT f(a := $1)", bound: []any{1}},
	{name: "pg/$ inside identifier", d: Postgres, in: "SELECT a$1 FROM t WHERE id = ?", args: pos(1),
		want: "SELECT a$1 FROM t WHERE id = $1", bound: []any{1}},
	{name: "pg/:1 is not a name", d: Postgres, in: "SELECT :1, : a",
		want: "SELECT :1, : a"},
	{name: "pg/invalid UTF-8 is kept", d: Postgres, in: "SELECT :\xff, :ab\xffc", args: named("ab", 1),
		want: "SELECT :\xff, $1 \xffc", bound: []any{1}},
	{name: "pg/native", d: Postgres, in: "SELECT * FROM t WHERE a = $1 AND b = $2", args: pos(1, 2),
		want: "SELECT * FROM t WHERE a = $1 AND b = $2", bound: []any{1, 2}},
	{name: "pg/native out of order", d: Postgres, in: "SELECT $2, $1, $2::text", args: pos(1, 2),
		want: "SELECT $2, $1, $2::text", bound: []any{1, 2}},
	{name: "pg/native with ??", d: Postgres, in: "SELECT data ?? $1", args: pos("k"),
		want: "SELECT data ? $1", bound: []any{"k"}},
	{name: "pg/no placeholders", d: Postgres, in: "SELECT 1",
		want: "SELECT 1"},

	// Postgres: errors.
	{name: "pg/native then ?", d: Postgres, in: "SELECT $1, ?", err: "parameter ? follows native $n parameters", off: 11},
	{name: "pg/? then native", d: Postgres, in: "SELECT ?, $1", err: "parameter $1 at offset 10 follows positional ? parameters", off: 7},
	{name: "pg/jsonb ? then native", d: Postgres, in: `SELECT '{"k":1}'::jsonb ? 'k' AND $1 = 1`, err: "write it ?? (also ?| and ?&), or pass placeholders=native", off: 24},
	{name: "pg/? then named", d: Postgres, in: "SELECT ?, :a", err: "named parameter :a follows positional ? parameters", off: 10},
	{name: "pg/native then named", d: Postgres, in: "SELECT $1, @a", err: "named parameter @a follows native $n parameters", off: 11},
	{name: "pg/unterminated string", d: Postgres, in: "SELECT * FROM t WHERE a = 'abc", err: "unterminated quoted string", off: 26},
	{name: "pg/unterminated E string", d: Postgres, in: `SELECT E'abc\'`, err: "unterminated quoted string", off: 8},
	{name: "pg/unterminated identifier", d: Postgres, in: `SELECT "abc`, err: "unterminated quoted identifier", off: 7},
	{name: "pg/unterminated dollar quote", d: Postgres, in: "SELECT $$ abc $", err: "unterminated dollar-quoted string $$", off: 7},
	{name: "pg/unterminated tagged dollar quote", d: Postgres, in: "SELECT 1, $fn$ abc $f$", err: "unterminated dollar-quoted string $fn$", off: 10},
	{name: "pg/unterminated nested comment", d: Postgres, in: "SELECT /* /* */ ?", err: "unterminated comment", off: 7},
	{name: "pg/$0", d: Postgres, in: "SELECT $0", err: "parameter $0 is out of range", off: 7},
	{name: "pg/$65536", d: Postgres, in: "SELECT $65536", err: "parameter $65536 is out of range", off: 7},
	{name: "pg/too many arguments", d: Postgres, in: "SELECT ?, ?", args: pos(1, 2, 3),
		err: "query has 2 positional parameters, got 3 arguments", off: 10},
	{name: "pg/too few arguments", d: Postgres, in: "SELECT ?, ?, ?", args: pos(1),
		err: "query has 3 positional parameters, got 1 argument", off: 10},
	{name: "pg/native too few", d: Postgres, in: "SELECT $1, $3", args: pos(1, 2),
		err: "query has parameters up to $3, got 2 arguments", off: 11},
	{name: "pg/missing named argument", d: Postgres, in: "SELECT :a, :b", args: named("a", 1),
		err: "named parameter :b has no argument", off: 11},
	{name: "pg/positional argument to named query", d: Postgres, in: "SELECT :a", args: pos(1),
		err: "query uses named parameters, got positional argument 1", off: 7},
	{name: "pg/named argument to positional query", d: Postgres, in: "SELECT 1, ?", args: named("a", 1),
		err: `query uses positional ? parameters, got named argument "a"`, off: 10},
	{name: "pg/unused named argument", d: Postgres, in: "SELECT :a", args: named("a", 1, "b", 2),
		err: `argument "b" is not used by the query`, off: -1},
	{name: "pg/named argument given twice", d: Postgres, in: "SELECT :a", args: named("a", 1, "a", 2),
		err: `argument "a" is given more than once`, off: -1},
	{name: "pg/arguments to a query without parameters", d: Postgres, in: "SELECT 1", args: pos(1),
		err: "query has no parameters, got 1 argument", off: -1},
	{name: "pg/named argument to a query without parameters", d: Postgres, in: "SELECT 1", args: named("a", 1),
		err: `argument "a" is not used by the query`, off: -1},

	// MySQL.
	{name: "my/$1 is not a parameter", d: MySQL, in: "SELECT $1", args: pos(1),
		err: "query has no parameters, got 1 argument; MySQL takes ? for parameters, not $n", off: -1},
	{name: "my/positional is native", d: MySQL, in: "SELECT * FROM t WHERE a = ? AND b = ?", args: pos(1, 2),
		want: "SELECT * FROM t WHERE a = ? AND b = ?", bound: []any{1, 2}},
	{name: "my/?AND gets a space", d: MySQL, in: "SELECT * FROM t WHERE a=?AND b=?", args: pos(1, 2),
		want: "SELECT * FROM t WHERE a=? AND b=?", bound: []any{1, 2}},
	{name: "my/named before an identifier byte", d: MySQL, in: "SELECT :a$x", args: named("a", 1),
		want: "SELECT ? $x", bound: []any{1}},
	{name: "my/named repeats arguments", d: MySQL, in: "SELECT :a, :b, :a", args: named("a", 1, "b", 2),
		want: "SELECT ?, ?, ?", bound: []any{1, 2, 1}},
	{name: "my/adjacent names stay two ?", d: MySQL, in: "SELECT :a:b", args: named("a", 1, "b", 2),
		want: "SELECT ? ?", bound: []any{1, 2}},
	{name: "my/user and system variables", d: MySQL, in: "SET @x = ?, @@session.y = @x", args: pos(1),
		want: "SET @x = ?, @@session.y = @x", bound: []any{1}},
	{name: "my/@name is a variable next to :name", d: MySQL, in: "SELECT * FROM t WHERE id=@id AND x=:x", args: named("x", 1),
		want: "SELECT * FROM t WHERE id=@id AND x=?", bound: []any{1}},
	{name: "my/:= assignment", d: MySQL, in: "SELECT @a := ?", args: pos(1),
		want: "SELECT @a := ?", bound: []any{1}},
	{name: "my/time literal", d: MySQL, in: "SELECT '10:30', :t", args: named("t", 1),
		want: "SELECT '10:30', ?", bound: []any{1}},
	{name: "my/unicode name", d: MySQL, in: "SELECT '日本?' :名前", args: named("名前", "v"),
		want: "SELECT '日本?' ?", bound: []any{"v"}},
	{name: "my/backslash escape", d: MySQL, in: `SELECT 'it\'s :a', :b`, args: named("b", 1),
		want: `SELECT 'it\'s :a', ?`, bound: []any{1}},
	{name: "my/doubled quote", d: MySQL, in: "SELECT 'it''s :a', :b", args: named("b", 1),
		want: "SELECT 'it''s :a', ?", bound: []any{1}},
	{name: "my/double-quoted string", d: MySQL, in: `SELECT "a\" :x", "b"":y", :z`, args: named("z", 1),
		want: `SELECT "a\" :x", "b"":y", ?`, bound: []any{1}},
	{name: "my/backtick identifier", d: MySQL, in: "SELECT `a``:b`, `:c` FROM t WHERE x = :d", args: named("d", 1),
		want: "SELECT `a``:b`, `:c` FROM t WHERE x = ?", bound: []any{1}},
	{name: "my/hash comment", d: MySQL, in: "SELECT 1 # :a ?\n, :b", args: named("b", 1),
		want: "SELECT 1 # :a ?\n, ?", bound: []any{1}},
	{name: "my/dash comment", d: MySQL, in: "SELECT 1 -- :a ?\n, :b", args: named("b", 1),
		want: "SELECT 1 -- :a ?\n, ?", bound: []any{1}},
	{name: "my/dash tab comment", d: MySQL, in: "SELECT 1 --\t?\n, ?", args: pos(1),
		want: "SELECT 1 --\t?\n, ?", bound: []any{1}},
	{name: "my/1--1 is arithmetic", d: MySQL, in: "SELECT 1--1, :a", args: named("a", 1),
		want: "SELECT 1--1, ?", bound: []any{1}},
	{name: "my/--? is not a comment", d: MySQL, in: "SELECT 1--?", args: pos(1),
		want: "SELECT 1--?", bound: []any{1}},
	{name: "my/block comment", d: MySQL, in: "SELECT /* :a ? */ :b", args: named("b", 1),
		want: "SELECT /* :a ? */ ?", bound: []any{1}},
	{name: "my/block comments do not nest", d: MySQL, in: "SELECT /* /* :a */ :b */ 1", args: named("b", 1),
		want: "SELECT /* /* :a */ ? */ 1", bound: []any{1}},
	{name: "my/executable comment is code", d: MySQL, in: "SELECT /*! :a, */ /*!50001 :b */ 1", args: named("a", 1, "b", 2),
		want: "SELECT /*! ?, */ /*!50001 ? */ 1", bound: []any{1, 2}},
	{name: "my/MariaDB executable comment", d: MySQL, in: "SELECT /*M!100100 ? */ 1", args: pos(1),
		want: "SELECT /*M!100100 ? */ 1", bound: []any{1}},
	{name: "my/string inside executable comment", d: MySQL, in: "SELECT /*! ':a' */ :b", args: named("b", 1),
		want: "SELECT /*! ':a' */ ?", bound: []any{1}},
	{name: "my/hint is a comment", d: MySQL, in: "SELECT /*+ INDEX(t :i) */ * FROM t WHERE id = :id", args: named("id", 1),
		want: "SELECT /*+ INDEX(t :i) */ * FROM t WHERE id = ?", bound: []any{1}},
	{name: "my/no dollar quoting", d: MySQL, in: "SELECT $$ ? $$", args: pos(1),
		want: "SELECT $$ ? $$", bound: []any{1}},
	{name: "my/$1 is not a placeholder", d: MySQL, in: "SELECT $1, ?", args: pos(1),
		want: "SELECT $1, ?", bound: []any{1}},
	{name: "my/E prefix is an identifier", d: MySQL, in: `SELECT E'it\'s :a', :b`, args: named("b", 1),
		want: `SELECT E'it\'s :a', ?`, bound: []any{1}},
	{name: "my/NO_BACKSLASH_ESCAPES", d: MySQL, m: sqlscan.NoBackslashEscapes, in: `SELECT 'C:\' AS a, ? AS b, "D:\", 'it''s ?'`, args: pos(1),
		want: `SELECT 'C:\' AS a, ? AS b, "D:\", 'it''s ?'`, bound: []any{1}},
	{name: "my/NO_BACKSLASH_ESCAPES named", d: MySQL, m: sqlscan.NoBackslashEscapes, in: `SELECT '\', :a, '\'':b'`, args: named("a", 1),
		want: `SELECT '\', ?, '\'':b'`, bound: []any{1}},
	{name: "my/NO_BACKSLASH_ESCAPES after ; and in executable comments", d: MySQL, m: sqlscan.NoBackslashEscapes, in: `SELECT 1; SELECT 'C:\', /*! 'D:\', */ ? # 'E:\`, args: pos(1),
		want: `SELECT 1; SELECT 'C:\', /*! 'D:\', */ ? # 'E:\`, bound: []any{1}},
	{name: "my/ANSI_QUOTES", d: MySQL, m: sqlscan.ANSIQuotes, in: `SELECT "a\" FROM t WHERE x = :x AND y = 'it\'s :y' AND "b""" = 1`, args: named("x", 1),
		want: `SELECT "a\" FROM t WHERE x = ? AND y = 'it\'s :y' AND "b""" = 1`, bound: []any{1}},
	{name: "my/ANSI_QUOTES and NO_BACKSLASH_ESCAPES", d: MySQL, m: sqlscan.ANSIQuotes | sqlscan.NoBackslashEscapes, in: `SELECT "a""b\", 'c\', ?`, args: pos(1),
		want: `SELECT "a""b\", 'c\', ?`, bound: []any{1}},

	// MySQL: errors.
	{name: "my/?? has no meaning", d: MySQL, in: "SELECT a ?? b", err: "?? has no meaning on mysql", off: 9},
	{name: "my/? then named", d: MySQL, in: "SELECT ?, :a", err: "named parameter :a follows positional ? parameters", off: 10},
	{name: "my/named then ?", d: MySQL, in: "SELECT :a, ?", err: "parameter ? follows named parameters", off: 11},
	{name: "my/unterminated string", d: MySQL, in: `SELECT 'a\'`, err: "unterminated quoted string", off: 7},
	{name: "my/a backslash before the quote names NO_BACKSLASH_ESCAPES", d: MySQL, in: `SELECT 'C:\' AS a, ? AS b`,
		err: "unterminated quoted string (the \\ at offset 10 escapes the quote after it; if the server's sql_mode has NO_BACKSLASH_ESCAPES", off: 7},
	{name: "my/unterminated string under NO_BACKSLASH_ESCAPES", d: MySQL, m: sqlscan.NoBackslashEscapes, in: `SELECT 'a''\`, err: "unterminated quoted string", off: 7},
	{name: "my/unterminated identifier under ANSI_QUOTES", d: MySQL, m: sqlscan.ANSIQuotes, in: `SELECT "a\" "`, err: "unterminated quoted identifier", off: 12},
	{name: "my/unterminated string under ANSI_QUOTES names NO_BACKSLASH_ESCAPES", d: MySQL, m: sqlscan.ANSIQuotes, in: `SELECT "a", 'b\'`,
		err: "the \\ at offset 14 escapes the quote after it", off: 12},
	{name: "my/unterminated double-quoted string", d: MySQL, in: `SELECT "a`, err: "unterminated quoted string", off: 7},
	{name: "my/unterminated backtick", d: MySQL, in: "SELECT `a``", err: "unterminated quoted identifier", off: 7},
	{name: "my/unterminated comment", d: MySQL, in: "SELECT /* a", err: "unterminated comment", off: 7},
	{name: "my/unterminated executable comment", d: MySQL, in: "SELECT /*!50001 ?", err: "unterminated comment", off: 7},
	{name: "my/too many arguments", d: MySQL, in: "SELECT ?", args: pos(1, 2),
		err: "query has 1 positional parameter, got 2 arguments", off: 7},
	{name: "my/missing named argument", d: MySQL, in: "SELECT :a, :b, :a", args: named("a", 1),
		err: "named parameter :b has no argument", off: 11},

	// SQLite: sent as written, with the verdicts of the other dialects.
	{name: "sqlite/positional", d: SQLite, in: "SELECT '?', [a?], \"b?\", ? -- ?", args: pos(1),
		want: "SELECT '?', [a?], \"b?\", ? -- ?", bound: []any{1}},
	{name: "sqlite/named", d: SQLite, in: "SELECT :a, @b, $c, :a", args: named("a", 1, "b", 2, "c", 3),
		want: "SELECT :a, @b, $c, :a", bound: []any{1, 2, 3}},
	{name: "sqlite/numbered", d: SQLite, in: "SELECT ?2, $1, ?2", args: pos(1, 2),
		want: "SELECT ?2, $1, ?2", bound: []any{1, 2}},
	{name: "sqlite/numbered in two statements", d: SQLite, in: "INSERT INTO t VALUES (?1); INSERT INTO u VALUES (?2)", args: pos(1, 2),
		want: "INSERT INTO t VALUES (?1); INSERT INTO u VALUES (?2)", bound: []any{1, 2}},
	{name: "sqlite/? and $n", d: SQLite, in: "SELECT ? + $1", args: pos(1),
		err: "parameter $1 follows positional ? parameters (one style per query)", off: 11},
	{name: "sqlite/? and a name", d: SQLite, in: "SELECT ?, :x", args: pos(1),
		err: "named parameter :x follows positional ? parameters (one style per query)", off: 10},
	{name: "sqlite/?NNN and ?", d: SQLite, in: "SELECT ?1, ?", args: pos(1),
		err: "parameter ? follows native $n parameters (one style per query)", off: 11},
	{name: "sqlite/too few arguments", d: SQLite, in: "SELECT ?, ?", args: pos(1),
		err: "query has 2 positional parameters, got 1 argument", off: 10},
	{name: "sqlite/too many arguments", d: SQLite, in: "SELECT ?", args: pos(1, 2),
		err: "query has 1 positional parameter, got 2 arguments", off: 7},
	{name: "sqlite/too few numbered", d: SQLite, in: "SELECT $1, ?3", args: pos(1, 2),
		err: "query has parameters up to ?3, got 2 arguments", off: 11},
	{name: "sqlite/missing named argument", d: SQLite, in: "SELECT :a, $b, :a", args: named("a", 1),
		err: "named parameter $b has no argument", off: 11},
	{name: "sqlite/unused named argument", d: SQLite, in: "SELECT :a", args: named("a", 1, "b", 2),
		err: `argument "b" is not used by the query`, off: -1},
	{name: "sqlite/positional argument for a name", d: SQLite, in: "SELECT :a", args: pos(1),
		err: "query uses named parameters, got positional argument 1", off: 7},
	{name: "sqlite/named argument for ?", d: SQLite, in: "SELECT ?", args: named("a", 1),
		err: `query uses positional ? parameters, got named argument "a"`, off: 7},
	{name: "sqlite/no parameters", d: SQLite, in: "SELECT 1", args: pos(1),
		err: "query has no parameters, got 1 argument", off: -1},
	{name: "sqlite/??", d: SQLite, in: "SELECT ??", args: pos(1),
		err: "?? has no meaning on sqlite", off: 7},
	{name: "sqlite/? in two statements", d: SQLite, in: "INSERT INTO t VALUES (?); INSERT INTO u VALUES (?)", args: pos(1, 2),
		err: "positional ? parameters in more than one statement", off: 48},
	{name: "sqlite/?0", d: SQLite, in: "SELECT ?0", args: pos(1),
		err: "parameter ?0 is out of range ?1…?32766", off: 7},
	{name: "sqlite/unterminated literal", d: SQLite, in: "SELECT ?, 'abc", args: pos(1),
		err: "unterminated quoted string", off: 10},
}

func TestRewrite(t *testing.T) {
	for _, tc := range rewriteCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseMode(tc.d, tc.m, tc.in)
			var bound []driver.NamedValue
			if err == nil {
				if tc.want != "" && p.Query() != tc.want {
					t.Errorf("Query() = %q, want %q", p.Query(), tc.want)
				}
				if p.Source() != tc.in {
					t.Errorf("Source() = %q, want the query as written", p.Source())
				}
				bound, err = p.Bind(tc.args)
			}
			if tc.err != "" {
				checkError(t, err, tc.err, tc.off)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(bound) != len(tc.bound) {
				t.Fatalf("Bind returned %d arguments, want %d", len(bound), len(tc.bound))
			}
			for i, a := range bound {
				if a.Ordinal != i+1 || a.Value != tc.bound[i] {
					t.Errorf("argument %d = {Ordinal: %d, Value: %v}, want {Ordinal: %d, Value: %v}", i, a.Ordinal, a.Value, i+1, tc.bound[i])
				}
				if a.Name != "" && tc.d != SQLite {
					t.Errorf("argument %d keeps name %q", i, a.Name)
				}
			}
		})
	}
}

func checkError(t *testing.T, err error, substr string, off int) {
	t.Helper()
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want *Error containing %q", err, substr)
	}
	if !strings.Contains(re.Msg, substr) {
		t.Errorf("error = %q, want it to contain %q", re.Msg, substr)
	}
	if re.Offset != off {
		t.Errorf("error offset = %d, want %d (%v)", re.Offset, off, err)
	}
}

func TestNumInputAndOperation(t *testing.T) {
	tests := []struct {
		d        Dialect
		in       string
		numInput int
		op       string
	}{
		{Postgres, "SELECT ?, ?", 2, "SELECT"},
		{Postgres, "select $3, $1", 3, "SELECT"},
		{Postgres, "insert into t values (:a, :b, :a)", -1, "INSERT"},
		{Postgres, "  -- note\n /* a /* nested */ b */ ((WITH x AS (SELECT 1) SELECT ?", 1, "WITH"},
		{Postgres, "Update t SET a = 1", 0, "UPDATE"},
		{Postgres, "vacuum full", 0, "VACUUM"},
		{Postgres, "refresh materialized view v", 0, "REFRESH"},
		{Postgres, "'x'", 0, ""},
		{Postgres, "", 0, ""},
		{Postgres, "/* unterminated", 0, ""},
		{MySQL, "# c\n-- c\n/*!50001 replace */ INTO t VALUES (?)", 1, "REPLACE"},
		{MySQL, "--1\nSELECT 1", 0, ""},
		{MySQL, "DELETE FROM t WHERE a = :a", -1, "DELETE"},
		{SQLite, " /* c */ select ?", 1, "SELECT"},
		{SQLite, "SELECT :a", -1, "SELECT"},
		{Postgres, "SELECT" + strings.Repeat("x", 40), 0, ""},
		// The first word is read as sqlscan reads it: $ and non-ASCII letters
		// continue a name, so these start with an identifier, not SELECT.
		{Postgres, "SELECT$1 FROM t", 0, ""},
		{MySQL, "selecté 1", 0, ""},
		{SQLite, "SELECT$x", 0, ""},
		{MySQL, "@@x", 0, ""},
		{MySQL, "1abc", 0, ""},
		{Postgres, "_x", 0, ""},
		// Empty statements before the first are skipped.
		{Postgres, " ; ;\n (select 1)", 0, "SELECT"},
		{MySQL, "/*!50001 (LOCK TABLES t WRITE) */", 0, "LOCK"},
		{SQLite, "/* no end select 1", 0, ""},
		{Postgres, "E'x'", 0, ""},
		{Postgres, "x1_Y", 0, "X1_Y"},
	}
	for _, tc := range tests {
		p, err := Parse(tc.d, tc.in)
		if err != nil {
			if tc.in == "/* unterminated" {
				if code, op := operation(tc.d, tc.in); code != 0 || op != tc.op {
					t.Errorf("operation(%s, %q) = %q, want %q", tc.d, tc.in, op, tc.op)
				}
				continue
			}
			t.Errorf("Parse(%s, %q): %v", tc.d, tc.in, err)
			continue
		}
		if p.NumInput() != tc.numInput {
			t.Errorf("Parse(%s, %q).NumInput() = %d, want %d", tc.d, tc.in, p.NumInput(), tc.numInput)
		}
		if p.Operation() != tc.op {
			t.Errorf("Parse(%s, %q).Operation() = %q, want %q", tc.d, tc.in, p.Operation(), tc.op)
		}
	}
}

func TestDialectString(t *testing.T) {
	for d, want := range map[Dialect]string{SQLite: "sqlite", Postgres: "postgres", MySQL: "mysql", 0: "Dialect(0)", 9: "Dialect(9)"} {
		if got := d.String(); got != want {
			t.Errorf("Dialect(%d).String() = %q, want %q", uint8(d), got, want)
		}
	}
	_, err := Parse(0, "SELECT 1")
	checkError(t, err, "unknown dialect Dialect(0)", -1)
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse(Postgres, "UPDATE u SET pw = 'hunter2")
	want := "rewrite: unterminated quoted string at offset 18"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q leaks the query", err)
	}
	p, _ := Parse(Postgres, "SELECT :a")
	_, err = p.Bind(named("a", 1, "b", 2))
	if want := `rewrite: argument "b" is not used by the query`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestBindReturnsArgsUnchanged(t *testing.T) {
	for _, tc := range []struct {
		d  Dialect
		in string
	}{{Postgres, "SELECT ?, ?"}, {Postgres, "SELECT $2, $1"}, {MySQL, "SELECT ?, ?"}, {SQLite, "SELECT ?, ?"}} {
		p, err := Parse(tc.d, tc.in)
		if err != nil {
			t.Fatal(err)
		}
		args := pos(1, 2)
		got, err := p.Bind(args)
		if err != nil {
			t.Fatal(err)
		}
		if &got[0] != &args[0] || len(got) != len(args) {
			t.Errorf("%s %q: Bind copied the arguments", tc.d, tc.in)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Bind(args) }); n != 0 {
			t.Errorf("%s %q: Bind allocates %v times", tc.d, tc.in, n)
		}
	}
}

func TestBindRenumbersOrdinals(t *testing.T) {
	p, err := Parse(Postgres, "SELECT ?, ?")
	if err != nil {
		t.Fatal(err)
	}
	args := []driver.NamedValue{{Ordinal: 5, Value: "a"}, {Ordinal: 9, Value: "b"}}
	got, err := p.Bind(args)
	if err != nil {
		t.Fatal(err)
	}
	want := pos("a", "b")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Bind = %v, want %v", got, want)
	}
	if args[0].Ordinal != 5 {
		t.Error("Bind modified its input")
	}
}

func TestBindManyNames(t *testing.T) {
	// Past linearArgs, names are looked up in maps; the result must not change.
	for _, d := range []Dialect{Postgres, MySQL} {
		var q strings.Builder
		var args []driver.NamedValue
		q.WriteString("SELECT ")
		for i := range 40 {
			name := "p" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			q.WriteString(":" + name + ", :" + name + ", ")
			args = append(args, driver.NamedValue{Ordinal: i + 1, Name: name, Value: i})
		}
		q.WriteString("1")
		p, err := Parse(d, q.String())
		if err != nil {
			t.Fatal(err)
		}
		// Hand the arguments over in reverse order: binding goes by name.
		rev := make([]driver.NamedValue, len(args))
		for i := range args {
			rev[i] = args[len(args)-1-i]
		}
		got, err := p.Bind(rev)
		if err != nil {
			t.Fatal(err)
		}
		per := 1
		if d == MySQL {
			per = 2
		}
		if len(got) != per*len(args) {
			t.Fatalf("%s: Bind returned %d arguments, want %d", d, len(got), per*len(args))
		}
		for i, a := range got {
			if a.Value != i/per || a.Ordinal != i+1 || a.Name != "" {
				t.Errorf("%s: argument %d = %+v", d, i, a)
			}
		}
		if _, err := p.Bind(append(rev[1:], driver.NamedValue{Name: "zz", Value: 0})); err == nil {
			t.Errorf("%s: Bind with a missing name succeeded", d)
		}
	}
}

func TestTooManyParameters(t *testing.T) {
	q := "SELECT " + strings.Repeat("?,", maxNative) + "?"
	_, err := Parse(Postgres, q)
	checkError(t, err, "more than 65535 parameters", len(q)-1)
	if p, err := Parse(MySQL, q); err != nil || p.NumInput() != maxNative+1 {
		t.Errorf("MySQL: %v", err)
	}
}

// TestLinearTime checks that parsing takes time linear in the length of
// inputs that would be quadratic for a naive scanner (re-scanning at every
// $ or every comment opener, reading back over a run of words). Each shape
// is parsed at k and 8k repetitions, alternately, and the fastest of
// several runs of each is kept: a loaded machine only adds time to a run,
// so the minimum is the work itself. Linear work takes about 8 times as
// long at 8k, quadratic 64 times; the bound, 24, leaves linear work room
// for cache effects and a quadratic none. The same measure is first shown
// to catch a quadratic function.
func TestLinearTime(t *testing.T) {
	shapes := []struct {
		name string
		k    int
		q    func(k int) string
	}{
		{"$a", 5000, func(k int) string { return strings.Repeat("$a", k) }},
		{"nested comment openers", 2500, func(k int) string { return strings.Repeat("/*", k) + strings.Repeat("*/", k) }},
		{":a list", 1250, func(k int) string { return "SELECT " + strings.Repeat(":a, ", k) + "1" }},
		{"a$", 5000, func(k int) string { return strings.Repeat("a$", k) }},
		{"E string of backslashes", 5000, func(k int) string { return "E'\\'" + strings.Repeat("\\\\", k) + "'" }},
		// Deciding :name inside [ ] and @? reads back over whitespace and
		// one word, and a comment saves what came before it.
		{"spaces before :a in [ ]", 50, func(k int) string {
			return "SELECT a[" + strings.Repeat(strings.Repeat(" ", 100)+":a", k) + "]"
		}},
		{"words before :a in [ ]", 5, func(k int) string {
			return "SELECT a[" + strings.Repeat(strings.Repeat("x", 1000)+":a", k) + "]"
		}},
		{"@? after comments", 1250, func(k int) string { return strings.Repeat("x /* */ @? ", k) }},
		{"[ and comments", 1250, func(k int) string { return strings.Repeat("[/**/", k) + ":a" }},
		{"backslashed quotes", 2500, func(k int) string { return strings.Repeat("'\\'", k) }},
	}
	const bound = 24.0
	quadratic := func(q string) {
		for i := range q {
			_ = strings.IndexByte(q[i:], 0)
		}
	}
	if r := growth(func(k int) string { return strings.Repeat("x", k) }, 4000, quadratic); r <= bound {
		t.Fatalf("a quadratic function grew %.1f times from k to 8k; the measure cannot tell it from a linear one (bound %.0f)", r, bound)
	}
	for _, sh := range shapes {
		for _, g := range langs {
			parse := func(q string) { _, _ = parseMode(g.d, g.m, q) }
			// A measure over the bound is taken again, up to three times:
			// a loaded machine can slow one run, while quadratic parsing
			// (64 times as long) is over the bound every time.
			r := growth(sh.q, sh.k, parse)
			for try := 0; r > bound && try < 3; try++ {
				r = min(r, growth(sh.q, sh.k, parse))
			}
			if r > bound {
				t.Errorf("%s, %s: parsing took %.1f times as long at %d repetitions as at %d; want at most %.0f (linear: about 8)",
					sh.name, g, r, 8*sh.k, sh.k, bound)
			}
		}
	}
}

// growth returns how many times longer f takes on shape(8k) than on
// shape(k): the fastest of several alternating runs of each, with the
// garbage collector off so that its work does not land in one of them.
func growth(shape func(k int) string, k int, f func(q string)) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	small, large := shape(k), shape(8*k)
	minSmall, minLarge := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	runtime.GC()
	for range 9 {
		start := time.Now()
		f(small)
		minSmall = min(minSmall, time.Since(start))
		start = time.Now()
		f(large)
		minLarge = min(minLarge, time.Since(start))
	}
	return float64(minLarge) / float64(max(minSmall, time.Microsecond))
}

func TestExprKeywords(t *testing.T) {
	for _, k := range exprKeywords {
		if len(k) > maxExprKeyword {
			t.Errorf("%s is longer than maxExprKeyword", k)
		}
		for _, w := range []string{k, strings.ToLower(k), strings.ToUpper(k[:1]) + strings.ToLower(k[1:])} {
			if !isExprKeyword(w) {
				t.Errorf("isExprKeyword(%q) = false", w)
			}
		}
	}
	for _, w := range []string{"ANDX", "THE", "_AND", "1OR", "select2", "é"} {
		if isExprKeyword(w) {
			t.Errorf("isExprKeyword(%q) = true", w)
		}
	}
}
