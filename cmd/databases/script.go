package main

import (
	"fmt"
	"strings"

	"github.com/go-databases/databases/sqlscan"
)

// A statement is one statement of a script.
type statement struct {
	Text   string // as written, from its first token to its last, without the ';'
	Line   int    // line of the script where Text starts, from 1
	Offset int    // byte offset of Text in the script
}

// splitScript splits a script into statements at each ';' that sqlscan reads
// as the end of one, by the lexical rules of dialect d and, on MySQL, the
// sql_mode flags mode (so not inside quotes, comments or dollar-quoted
// bodies), except inside a compound BEGIN … END body (sqlscan.Body: a
// trigger, function, procedure or event, MariaDB's BEGIN NOT ATOMIC). Empty
// statements and statements of comments alone are dropped. An unterminated quote or comment is an error naming the line where
// it starts; so is an unterminated /* on SQLite, which SQLite would read as a
// comment to the end, dropping the rest of the script without a word.
func splitScript(script string, d sqlscan.Dialect, mode sqlscan.Mode) ([]statement, error) {
	var (
		out       []statement
		body      sqlscan.Body
		start     = -1 // offset of the statement's first token
		end       int  // end of its last token
		code      bool // it has a token other than comments
		last      sqlscan.Token
		execStart = -1 // MySQL: where the open /*! … */ starts
	)
	s := sqlscan.New(d, mode, script)
	body.Reset(d)
	for {
		t := s.Next()
		if t.Kind == sqlscan.EOF {
			break
		}
		last = t
		if t.Kind == sqlscan.Semicolon && !body.Open() {
			if code {
				out = append(out, newStatement(script, start, end))
			}
			start, code = -1, false
			body.Reset(d)
			continue
		}
		if start < 0 {
			start = t.Start
		}
		end = t.End
		if t.Kind == sqlscan.Comment {
			switch text := script[t.Start:t.End]; {
			case strings.HasPrefix(text, "/*!") || strings.HasPrefix(text, "/*M!"):
				execStart = t.Start
			case text == "*/":
				execStart = -1
			case d == sqlscan.SQLite && t.End == len(script) && strings.HasPrefix(text, "/*") && !strings.HasSuffix(text[2:], "*/"):
				return nil, unterminated(script, t.Start, "/* comment",
					&sqlscan.Error{Offset: t.Start, Msg: "unterminated comment"})
			}
		} else {
			code = true
		}
		body.Token(script, t)
	}
	if err := s.Err(); err != nil {
		if last.Kind != sqlscan.EOF && last.End == len(script) && last.Start == offsetOf(err) {
			return nil, unterminated(script, last.Start, what(script, last), err)
		}
		return nil, unterminated(script, execStart, "/*! comment", err)
	}
	if code {
		out = append(out, newStatement(script, start, end))
	}
	return out, nil
}

// terminated returns the length of the part of script that ends with the
// last ';' ending a statement (0 when none has ended): the statements a
// reader can run before it reads more. An unterminated quote or comment at
// the end is not an error here: the next line may end it.
func terminated(script string, d sqlscan.Dialect, mode sqlscan.Mode) int {
	var body sqlscan.Body
	body.Reset(d)
	end := 0
	s := sqlscan.New(d, mode, script)
	for t := s.Next(); t.Kind != sqlscan.EOF; t = s.Next() {
		if t.Kind == sqlscan.Semicolon && !body.Open() {
			end = t.End
			body.Reset(d)
			continue
		}
		body.Token(script, t)
	}
	return end
}

// newStatement returns the statement whose tokens span script[start:end],
// without the white space at the end of a line comment that ends it.
func newStatement(script string, start, end int) statement {
	text := strings.TrimRight(script[start:end], " \t\n\r\f\v")
	return statement{Text: text, Line: lineOf(script, start), Offset: start}
}

// lineOf returns the line of offset off in script, from 1.
func lineOf(script string, off int) int {
	return 1 + strings.Count(script[:max(off, 0)], "\n")
}

// offsetOf returns the offset of a scanning error, or -1.
func offsetOf(err error) int {
	if e, ok := err.(*sqlscan.Error); ok {
		return e.Offset
	}
	return -1
}

// what names the unterminated literal or comment t for an error message.
func what(script string, t sqlscan.Token) string {
	text := script[t.Start:t.End]
	switch {
	case t.Kind == sqlscan.Comment:
		return "/* comment"
	case text[0] == '[':
		return "[identifier]"
	case t.Kind == sqlscan.Ident:
		return "quoted identifier"
	case text[0] == '$':
		return text[:2+strings.IndexByte(text[1:], '$')] + " quoted body"
	}
	return "quoted string"
}

// scriptError is an unterminated literal or comment in a script, at the
// line where it starts. The scanner's error, with its byte offset, is
// reachable with errors.As.
type scriptError struct {
	line int
	what string
	err  error
}

func (e *scriptError) Error() string { return fmt.Sprintf("line %d: unterminated %s", e.line, e.what) }
func (e *scriptError) Unwrap() error { return e.err }

func unterminated(script string, at int, what string, err error) error {
	return &scriptError{line: lineOf(script, at), what: what, err: err}
}

// isWord reports whether w is one of words, compared without regard to
// ASCII case.
func isWord(w string, words ...string) bool {
	for _, k := range words {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}
