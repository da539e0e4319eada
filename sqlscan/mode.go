package sqlscan

import (
	"errors"
	"strconv"
	"strings"
)

// Mode holds the flags of a MySQL or MariaDB sql_mode that change how
// text is read. The zero value is the servers' default: backslash escapes in
// '…' and "…", which are both strings. Every reader of MySQL text (this
// package, the rewrite lexer) takes the same flags, so they live in this one
// type. Other dialects ignore it.
type Mode uint8

const (
	// NoBackslashEscapes is sql_mode NO_BACKSLASH_ESCAPES: a backslash in a
	// string is an ordinary character, and only a doubled quote escapes one.
	NoBackslashEscapes Mode = 1 << iota
	// ANSIQuotes is sql_mode ANSI_QUOTES (part of ANSI and of MariaDB's DB2,
	// MAXDB, MSSQL, ORACLE and POSTGRESQL): "…" is an identifier, with ""
	// for a double quote and no backslash escapes, as `…` is.
	ANSIQuotes
)

// String returns the flags as a sql_mode value, e.g.
// "NO_BACKSLASH_ESCAPES,ANSI_QUOTES", or "" for none.
func (m Mode) String() string {
	var names []string
	if m&NoBackslashEscapes != 0 {
		names = append(names, "NO_BACKSLASH_ESCAPES")
	}
	if m&ANSIQuotes != 0 {
		names = append(names, "ANSI_QUOTES")
	}
	return strings.Join(names, ",")
}

// ParseMySQLMode reads the lexing flags from a sql_mode value as SET
// sql_mode = value would take it: a quoted, comma-separated list of mode
// names ('ANSI,NO_BACKSLASH_ESCAPES') or one bare name (ANSI). Names that do
// not change lexing are ignored. A value whose flags cannot be told from its
// text, such as DEFAULT, a number or an expression, is an error.
func ParseMySQLMode(value string) (Mode, error) {
	v := strings.TrimSpace(value)
	if n := len(v); n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n-1] == v[0] {
		v = v[1 : n-1]
	} else if strings.EqualFold(v, "DEFAULT") || strings.Contains(v, ",") || v != "" && !(isWordStart(v[0]) && v[0] < 0x80) {
		return 0, errors.New("cannot tell the flags of sql_mode " + quoteMode(value) +
			"; give the mode names, quoted: 'NAME,NAME'")
	}
	var m Mode
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		for i := 0; i < len(name); i++ {
			if !isWordByte(name[i]) || name[i] == '$' || name[i] >= 0x80 {
				return 0, errors.New("cannot tell the flags of sql_mode " + quoteMode(value) +
					": " + quoteMode(name) + " is not a mode name")
			}
		}
		switch strings.ToUpper(name) {
		case "NO_BACKSLASH_ESCAPES":
			m |= NoBackslashEscapes
		case "ANSI_QUOTES", "ANSI", "DB2", "MAXDB", "MSSQL", "ORACLE", "POSTGRESQL":
			m |= ANSIQuotes
		}
	}
	return m, nil
}

// quoteMode quotes a sql_mode value for an error message, shortened: it is
// configuration, not a secret, but may be long.
func quoteMode(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}
