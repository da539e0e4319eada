package rewrite

import "strconv"

// Error reports a query the package refuses to rewrite or bind, and where.
//
// Offset is a byte offset into the query as the user wrote it, or -1 when the
// problem has no single position (an argument the query never uses). The
// message never contains the query text beyond the placeholder it is about,
// because queries may hold secrets.
type Error struct {
	Offset int
	Msg    string
}

// Error returns the message prefixed with "rewrite: " and followed by the offset.
func (e *Error) Error() string {
	if e.Offset < 0 {
		return "rewrite: " + e.Msg
	}
	return "rewrite: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

func errorAt(offset int, msg string) *Error {
	return &Error{Offset: offset, Msg: msg}
}

// plural formats a count with its noun, e.g. "1 argument", "2 arguments".
func plural(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}
