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
//	??                   ? (jsonb ?, ?|, ?&)    error              unchanged
//	$1…$n (native)       unchanged              –                  unchanged
//	? with :name,        error                  error              unchanged
//	$n with ? or :name
//
// SQLite understands every one of these styles natively, so its queries are
// never lexed.
//
// Nothing inside a literal or a comment is ever rewritten. The lexer knows:
//
//	postgres  '…' with '' (standard_conforming_strings on: \ is literal),
//	          E'…' with \ escapes, U&'…', B'…', X'…', $$…$$ and $tag$…$tag$,
//	          "…" with "", -- comments, nested /* /* */ */ comments
//	mysql     '…' and "…" with \ escapes and doubling (default sql_mode),
//	          `…` with ``, # comments, "-- " comments (1--1 is arithmetic),
//	          /* */ (not nested), /*+ hints */ as comments; /*! … */,
//	          /*!50001 … */ and /*M! … */ hold code, so placeholders count there
//
// These are never parameters: :: casts (x::int, :id::int is $1::int), :=,
// a colon inside [ ] on Postgres (arr[1:n], arr[:n]), an @ that follows an
// operator character other than = on Postgres (@>, <@, @@; a ? placeholder
// is an operand, so ?@x holds the parameter @x), a $ inside an identifier
// (a$1). A rewritten placeholder is separated by a space from a neighbouring
// identifier character so that Postgres lexes it alone (?AND becomes $1 AND);
// on MySQL a ? followed by one gets a space too (?AND becomes ? AND), without
// which MySQL and MariaDB refuse the statement.
// On MySQL, ?? is an error: every ? outside a literal is a parameter there,
// so a literal ? cannot be written.
//
// Names are Unicode identifiers: a letter or _, then letters, digits,
// combining marks and _. Unterminated literals and comments, a mix of styles,
// and arguments that do not match the parameters are errors of type *Error
// carrying the byte offset into the query as written; nothing is guessed.
package rewrite
