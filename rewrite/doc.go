// Package rewrite turns queries written in one portable placeholder style into
// the native style of each SQL dialect, and maps database/sql arguments onto
// them.
//
// Users write ? for positional parameters and :name (or @name on Postgres) for
// named ones, bound with sql.Named. Parse lexes the query by the dialect's
// rules in one linear pass, without regular expressions, and returns a Plan:
// the native SQL and how to bind arguments to it. A Cache keeps Plans so that
// a repeated query costs one map lookup and no allocation; an uncached Parse
// allocates once.
//
//	written              postgres               mysql              sqlite
//	?                    $1, $2, … in order     ? (unchanged)      unchanged
//	:name, @name         $k, same k per name    ? per use, arg     unchanged
//	                                            repeated; @name is
//	                                            a user variable
//	??                   ? (jsonb ?, ?|, ?&)    error              error
//	@? after an operand  unchanged (jsonpath)   @, then ?          –
//	$1…$n (native)       unchanged              –                  unchanged
//	?NNN, $name          –                      –                  unchanged
//	? with :name,        error                  error              error
//	$n with ? or :name
//
// SQLite understands these styles natively, so its native query is the
// query as written; Parse still lexes it (with sqlscan's SQLite rules) so
// that it gets the verdict of the other dialects: one style per query, and
// arguments that match (sqlite.go).
//
// Nothing inside a literal or a comment is ever rewritten. The lexer knows:
//
//	postgres  '…' with '' (standard_conforming_strings on: \ is literal),
//	          E'…' with \ escapes, U&'…', B'…', X'…', $$…$$ and $tag$…$tag$,
//	          "…" with "", -- comments, nested /* /* */ */ comments
//	mysql     '…' and "…" with \ escapes and doubling (default sql_mode);
//	          without \ escapes under sql_mode NO_BACKSLASH_ESCAPES, and
//	          "…" an identifier under ANSI_QUOTES (see sqlscan.Mode);
//	          `…` with ``, # comments, "-- " comments (1--1 is arithmetic),
//	          /* */ (not nested), /*+ hints */ as comments; /*! … */,
//	          /*!50001 … */ and /*M! … */ hold code, so placeholders count there
//
// These are never parameters: :: casts (x::int, :id::int is $1::int), :=,
// an @ that follows an operator character other than = on Postgres (@>, <@,
// @@; a placeholder is an operand, so ?@x holds the parameter @x), a $
// inside an identifier (a$1).
//
// On Postgres some text means a parameter or not by what comes before it,
// skipping whitespace and comments: an operand (an identifier or number, a
// literal or quoted identifier, a placeholder, a closing ) or ]) or not (the
// start, an operator, [ ( , or a keyword that an expression follows: AND, OR,
// NOT, CASE, WHEN, THEN, ELSE, SELECT, WHERE, LIMIT, FROM, … but not after a
// ., as in t.from). Inside [ ], a colon after an operand is an array slice's
// (arr[1:n], arr[lo:hi], arr[x :y]), and :name elsewhere is a parameter
// (ARRAY[:a, :b], arr[:i], arr[ :i ], arr[:lo : :hi]); arr[: n], with a space,
// is a slice without a lower bound. @? after an operand is the jsonpath
// operator (doc @? '$.a' is sent as written); elsewhere it is the prefix @ of
// a placeholder (SELECT @? is SELECT @$1). @?? is @? anywhere.
//
// MySQL's sql_mode changes how strings are lexed, and Parse assumes the
// default; ParseMySQL and NewMySQLCache take the flags of another
// (sqlscan.ParseMySQLMode reads them from a sql_mode value). Under the default, a
// string left open by a \ before its closing quote is an error that names
// NO_BACKSLASH_ESCAPES as the likely cause.
//
// A rewritten placeholder is separated by a space from a neighbouring
// identifier character so that Postgres lexes it alone (?AND becomes $1 AND);
// on MySQL a ? followed by one gets a space too (?AND becomes ? AND), without
// which MySQL and MariaDB refuse the statement.
// On MySQL, ?? is an error: every ? outside a literal is a parameter there,
// so a literal ? cannot be written.
//
// A placeholder that is the whole parenthesised list after IN or NOT IN
// (comments aside) is a list placeholder: Plan.HasLists and Plan.IsList
// report them, and Plan.Expand binds a List there as one native placeholder
// per element, padded to the next power of two, with an empty List making
// IN match nothing and NOT IN everything. sqlscan reads what surrounds a
// placeholder.
//
// Names are Unicode identifiers: a letter or _, then letters, digits,
// combining marks and _. Unterminated literals and comments, a mix of styles,
// and arguments that do not match the parameters are errors of type *Error
// carrying the byte offset into the query as written; nothing is guessed.
package rewrite
