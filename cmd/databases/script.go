package main

import (
	"fmt"
	"strings"
	"unicode"
)

// A statement is one statement of a script.
type statement struct {
	Text   string // as written, without surrounding space and the final ';'
	Line   int    // line of the script where Text starts, from 1
	Offset int    // byte offset of Text in the script
}

// splitScript splits a script into statements at each ';' that is outside
// quotes, identifiers in quotes, comments and dollar-quoted bodies, and
// outside the BEGIN … END body of a CREATE TRIGGER, FUNCTION or PROCEDURE.
// dialect ("sqlite", "postgres" or "mysql") selects the lexical rules:
// backslash escapes and # comments on MySQL, E'…', $tag$…$tag$ and nested
// /* */ on PostgreSQL, […] identifiers on SQLite. Empty statements and
// statements of comments alone are dropped. An unterminated quote or
// comment is an error naming the line where it starts.
func splitScript(script, dialect string) ([]statement, error) {
	s := splitter{src: script, dialect: dialect}
	return s.split()
}

type splitter struct {
	src     string
	dialect string
	out     []statement

	start    int  // offset of the current statement
	code     bool // the current statement has something besides comments
	words    int  // words seen in the current statement
	create   bool // the statement starts with CREATE
	routine  bool // … and creates a trigger, function, procedure or event
	depth    int  // open BEGIN/CASE blocks in a routine body
	afterEnd bool // the previous word was END
}

func (s *splitter) split() ([]statement, error) {
	src := s.src
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ';':
			if s.routine && s.depth > 0 {
				i++
				continue
			}
			s.emit(i)
			i++
			s.start = i
			continue
		case c == '\'' || c == '"':
			backslash := s.dialect == "mysql" || (c == '\'' && s.isEscapeString(i))
			end, ok := quoted(src, i, c, backslash)
			if !ok {
				return nil, s.unterminated(i, "quoted string")
			}
			i, s.code = end, true
			continue
		case c == '`' && s.dialect != "postgres":
			end, ok := quoted(src, i, c, false)
			if !ok {
				return nil, s.unterminated(i, "quoted identifier")
			}
			i, s.code = end, true
			continue
		case c == '[' && s.dialect == "sqlite":
			end := strings.IndexByte(src[i+1:], ']')
			if end < 0 {
				return nil, s.unterminated(i, "[identifier]")
			}
			i, s.code = i+1+end+1, true
			continue
		case c == '-' && strings.HasPrefix(src[i:], "--") &&
			(s.dialect != "mysql" || i+2 == len(src) || src[i+2] <= ' '),
			c == '#' && s.dialect == "mysql":
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			i += end
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end, ok := blockComment(src, i, s.dialect == "postgres")
			if !ok {
				return nil, s.unterminated(i, "/* comment")
			}
			i = end
			continue
		case c == '$' && s.dialect == "postgres" && (i == 0 || !isIdent(src[i-1])):
			if tag, ok := dollarTag(src[i:]); ok {
				end := strings.Index(src[i+len(tag):], tag)
				if end < 0 {
					return nil, s.unterminated(i, tag+" quoted body")
				}
				i, s.code = i+len(tag)+end+len(tag), true
				continue
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			s.word(src[i:j])
			i, s.code = j, true
			continue
		}
		if c > ' ' {
			s.code = true
		}
		i++
	}
	s.emit(len(src))
	return s.out, nil
}

// word tracks the words that decide whether a ';' is inside a routine body:
// a CREATE statement that names a TRIGGER, FUNCTION, PROCEDURE or EVENT
// counts BEGIN and CASE against END (END IF, END LOOP, END WHILE and END
// REPEAT close blocks that were not counted).
func (s *splitter) word(w string) {
	s.words++
	afterEnd := s.afterEnd
	s.afterEnd = false
	u := strings.ToUpper(w)
	switch {
	case s.words == 1:
		s.create = u == "CREATE"
	case !s.create:
	case !s.routine:
		s.routine = u == "TRIGGER" || u == "FUNCTION" || u == "PROCEDURE" || u == "EVENT"
	case afterEnd && (u == "IF" || u == "LOOP" || u == "WHILE" || u == "REPEAT"):
		s.depth++
	case afterEnd && u == "CASE":
	case u == "BEGIN" || u == "CASE":
		s.depth++
	case u == "END":
		s.depth = max(s.depth-1, 0)
		s.afterEnd = true
	}
}

func (s *splitter) emit(end int) {
	if s.code {
		text := s.src[s.start:end]
		trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
		offset := s.start + len(text) - len(trimmed)
		if trimmed = strings.TrimRightFunc(trimmed, unicode.IsSpace); trimmed != "" {
			s.out = append(s.out, statement{
				Text:   trimmed,
				Line:   1 + strings.Count(s.src[:offset], "\n"),
				Offset: offset,
			})
		}
	}
	s.code, s.words, s.create, s.routine, s.depth, s.afterEnd = false, 0, false, false, 0, false
}

func (s *splitter) unterminated(at int, what string) error {
	return fmt.Errorf("line %d: unterminated %s", 1+strings.Count(s.src[:at], "\n"), what)
}

// isEscapeString tells whether the quote at i opens a PostgreSQL E'…' string.
func (s *splitter) isEscapeString(i int) bool {
	return s.dialect == "postgres" && i > 0 && (s.src[i-1] == 'E' || s.src[i-1] == 'e') &&
		(i == 1 || !isIdent(s.src[i-2]))
}

// quoted returns the offset just past the literal that opens at i with q;
// a doubled q is the quote itself, and with backslash a '\' escapes the
// next byte.
func quoted(src string, i int, q byte, backslash bool) (int, bool) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(src), false
}

// blockComment returns the offset just past the /* comment at i.
func blockComment(src string, i int, nested bool) (int, bool) {
	depth := 0
	for j := i; j+1 < len(src); j++ {
		switch {
		case src[j] == '/' && src[j+1] == '*':
			if depth == 0 || nested {
				depth++
			}
			j++
		case src[j] == '*' && src[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return len(src), false
}

// dollarTag returns the $tag$ that s starts with: $$ or $name$, where name
// does not start with a digit (so $1 is a parameter).
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case j == 1 && c >= '0' && c <= '9':
			return "", false
		case !isIdent(c):
			return "", false
		}
	}
	return "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdent(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

// dialectOf returns the dialect a database URL's scheme names, for the
// lexical rules of splitScript.
func dialectOf(url string) string {
	scheme, _, _ := strings.Cut(url, "://")
	scheme, _, _ = strings.Cut(strings.ToLower(scheme), "+")
	switch scheme {
	case "postgres", "postgresql":
		return "postgres"
	case "mysql", "mariadb":
		return "mysql"
	}
	return "sqlite"
}
