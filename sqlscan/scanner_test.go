package sqlscan

import (
	"strings"
	"testing"
)

// tokens renders the tokens of q as "Kind:text" joined by spaces.
func tokens(d Dialect, mode Mode, q string) (string, error) {
	s := New(d, mode, q)
	var out []string
	for {
		t := s.Next()
		if t.Kind == EOF {
			return strings.Join(out, " "), s.Err()
		}
		out = append(out, t.Kind.String()+":"+q[t.Start:t.End])
	}
}

func TestTokens(t *testing.T) {
	const all = 0
	tests := []struct {
		d    Dialect // 0: every dialect
		mode Mode
		in   string
		want string
		err  string
	}{
		{all, 0, "SELECT a1, t.b FROM t", "Word:SELECT Word:a1 Punct:, Word:t Punct:. Word:b Word:FROM Word:t", ""},
		{all, 0, "x = 'it''s ?'", "Word:x Punct:= String:'it''s ?'", ""},
		{all, 0, "1 1.5 .5 1e3 1.5E-3 0x1F", "Number:1 Number:1.5 Number:.5 Number:1e3 Number:1.5E-3 Number:0x1F", ""},
		{all, 0, "a;b", "Word:a Semicolon:; Word:b", ""},
		{all, 0, "x'0A'", "String:x'0A'", ""},
		{Postgres, 0, ":id::int", "Param::id Punct::: Word:int", ""},
		{MySQL, 0, ":id::int", "Param::id Punct::: Word:int", ""},
		// SQLite reads :: and a (…) suffix as part of a name, as Tcl's.
		{SQLite, 0, ":id::int $a(x) @b(c d)", "Param::id::int Param:$a(x) Param:@b Punct:( Word:c Word:d Punct:)", ""},
		{all, 0, "'unterminated", "String:'unterminated", "unterminated quoted string at byte offset 0"},
		{Postgres, 0, `E'it\'s' e'\\'`, `String:E'it\'s' String:e'\\'`, ""},
		{Postgres, 0, `'C:\' x`, `String:'C:\' Word:x`, ""},
		{Postgres, 0, `U&'d\0061t' U&"id"`, `String:U&'d\0061t' Ident:U&"id"`, ""},
		{Postgres, 0, "$1 $$ ; $$ $tag$x$tag$ a$1", "Param:$1 String:$$ ; $$ String:$tag$x$tag$ Word:a$1", ""},
		{Postgres, 0, "/* a /* b */ BEGIN */ COMMIT", "Comment:/* a /* b */ BEGIN */ Word:COMMIT", ""},
		{Postgres, 0, `"a""b" -- c`, `Ident:"a""b" Comment:-- c`, ""},
		// PostgreSQL ends a -- comment at a carriage return too (scan.l:
		// non_newline is [^\n\r]); MySQL and SQLite read on to the newline.
		{Postgres, 0, "--x\rSELECT 1", "Comment:--x Word:SELECT Number:1", ""},
		{MySQL, 0, "-- x\rSELECT 1\n#y\rz\nw", "Comment:-- x\rSELECT 1 Comment:#y\rz Word:w", ""},
		{SQLite, 0, "--x\rSELECT 1\nw", "Comment:--x\rSELECT 1 Word:w", ""},
		{Postgres, 0, "# not a comment", "Punct:# Word:not Word:a Word:comment", ""},
		{Postgres, 0, "data ?? 'k' ?", "Word:data Punct:?? String:'k' Param:?", ""},
		{Postgres, 0, "/* open", "Comment:/* open", "unterminated comment at byte offset 0"},
		{Postgres, 0, "$q$ open", "String:$q$ open", "unterminated dollar-quoted string $q$ at byte offset 0"},
		// Rewrite's @name on Postgres, unless the @ continues an operator;
		// a comment or placeholder just before it is no operator.
		{Postgres, 0, "@id <@ @@ x=@y /*c*/@z ?@w ~@v", "Param:@id Punct:< Punct:@ Punct:@ Punct:@ Word:x Punct:= Param:@y Comment:/*c*/ Param:@z Param:? Param:@w Punct:~ Punct:@ Word:v", ""},
		// @E'…' is a name and a plain string once @E is replaced.
		{Postgres, 0, `@E'\' x`, `Param:@E String:'\' Word:x`, ""},
		// A :name is letters, digits and marks: € ends it, and the $ after
		// it belongs to the identifier € starts, as PostgreSQL reads it.
		{Postgres, 0, ":a€$b$ x", "Param::a Word:€$b$ Word:x", ""},
		// A number run into an identifier is one token of trailing junk,
		// whose $ start no dollar quote; 12$$ and 1e+3$$ still do.
		{Postgres, 0, `0x1F$$a 1e3$$b 1E'\' 12$$c$$ 1e+3$$d$$`, `Word:0x1F$$a Word:1e3$$b Word:1E String:'\' Number:12 String:$$c$$ Number:1e+3 String:$$d$$`, ""},
		{MySQL, 0, `'it\'s' "a\"b"`, `String:'it\'s' String:"a\"b"`, ""},
		// Under ANSI_QUOTES @"…" quotes the name as an identifier: no
		// backslash escapes (MariaDB: SELECT @"a\" reads the variable a\).
		{MySQL, ANSIQuotes, `@"a\" x`, `Word:@"a\" Word:x`, ""},
		{MySQL, 0, `@"a\"" x`, `Word:@"a\"" Word:x`, ""},
		{MySQL, NoBackslashEscapes, `'C:\' x`, `String:'C:\' Word:x`, ""},
		{MySQL, ANSIQuotes, `"a\" x`, `Ident:"a\" Word:x`, ""},
		{MySQL, 0, "# c\nBEGIN", "Comment:# c Word:BEGIN", ""},
		{MySQL, 0, "1--1", "Number:1 Punct:- Punct:- Number:1", ""},
		{MySQL, 0, "-- c\nX", "Comment:-- c Word:X", ""},
		{MySQL, 0, "/*!40000 ALTER TABLE t */", "Comment:/*!40000 Word:ALTER Word:TABLE Word:t Comment:*/", ""},
		{MySQL, 0, "/*M!100100 SET x */", "Comment:/*M!100100 Word:SET Word:x Comment:*/", ""},
		{MySQL, 0, "/* a /* b */ c", "Comment:/* a /* b */ Word:c", ""},
		{MySQL, 0, "@v @@session.autocommit @'q'", "Word:@v Word:@@session Punct:. Word:autocommit Word:@'q'", ""},
		{MySQL, 0, "`a``b` 1abc $x", "Ident:`a``b` Word:1abc Word:$x", ""},
		{MySQL, 0, "/*! BEGIN", "Comment:/*! Word:BEGIN", "unterminated comment /*! at byte offset 9"},
		{SQLite, 0, "[a b] `c` \"d\" ?12 @n $n :n", "Ident:[a b] Ident:`c` Ident:\"d\" Param:?12 Param:@n Param:$n Param::n", ""},
		{SQLite, 0, "x /* to the end", "Word:x Comment:/* to the end", ""},
		{SQLite, 0, "[open", "Ident:[open", "unterminated [identifier] at byte offset 0"},
		{all, 0, "'日本?' :名前", "String:'日本?' Param::名前", ""},
		{all, 0, "a\fb\vc", "Word:a Word:b Word:c", ""},
	}
	for _, tt := range tests {
		for _, d := range []Dialect{SQLite, Postgres, MySQL} {
			if tt.d != all && tt.d != d {
				continue
			}
			got, err := tokens(d, tt.mode, tt.in)
			if got != tt.want {
				t.Errorf("%s %q:\n got %s\nwant %s", d, tt.in, got, tt.want)
			}
			if errText(err) != tt.err {
				t.Errorf("%s %q: error %q, want %q", d, tt.in, errText(err), tt.err)
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestStatements(t *testing.T) {
	tests := []struct {
		d    Dialect
		in   string
		want []string // leading words of each statement, "|"-joined; "-" for comments only
	}{
		{Postgres, "SELECT 1; BEGIN", []string{"SELECT", "BEGIN"}},
		{Postgres, "  ;; (SELECT 1) ;", []string{"SELECT"}},
		{Postgres, "/* c */ START TRANSACTION ISOLATION LEVEL SERIALIZABLE", []string{"START|TRANSACTION|ISOLATION|LEVEL|SERIALIZABLE"}},
		{Postgres, "SELECT ';' ; COMMIT -- ;", []string{"SELECT", "COMMIT"}},
		{Postgres, "SELECT $$;$$; ABORT", []string{"SELECT", "ABORT"}},
		{MySQL, "# note\nBEGIN", []string{"BEGIN"}},
		{MySQL, "XA START 'x'", []string{"XA|START"}},
		{MySQL, "SET autocommit=0", []string{"SET|autocommit"}},
		{MySQL, "/*!40000 ALTER TABLE t DISABLE KEYS */; -- only a comment", []string{"ALTER|TABLE|t|DISABLE|KEYS", "-"}},
		{MySQL, `SELECT "a;b"; DO 1`, []string{"SELECT", "DO"}},
		{SQLite, "SELECT [;]; SAVEPOINT x", []string{"SELECT", "SAVEPOINT|x"}},
		{SQLite, "CREATE TEMPORARY TABLE t (x)", []string{"CREATE|TEMPORARY|TABLE|t"}},
	}
	for _, tt := range tests {
		s := New(tt.d, 0, tt.in)
		var got []string
		for {
			st, ok := s.NextStatement()
			if !ok {
				break
			}
			if !st.Code {
				got = append(got, "-")
				continue
			}
			var ws []string
			for i := 0; st.Word(i) != ""; i++ {
				ws = append(ws, st.Word(i))
			}
			got = append(got, strings.Join(ws, "|"))
			if st.Start < 0 || st.End > len(tt.in) || st.Start > st.End {
				t.Errorf("%s %q: span [%d,%d)", tt.d, tt.in, st.Start, st.End)
			}
		}
		if strings.Join(got, " ; ") != strings.Join(tt.want, " ; ") {
			t.Errorf("%s %q: statements %q, want %q", tt.d, tt.in, got, tt.want)
		}
	}
}

func TestIs(t *testing.T) {
	s := New(MySQL, 0, "start /* x */ Transaction read only")
	st, _ := s.NextStatement()
	if !st.Is("START", "TRANSACTION") || st.Is("START", "SLAVE") || !st.Is("start") || st.Is("START", "TRANSACTION", "READ", "ONLY", "NOW", "X") {
		t.Errorf("Is on %q gave wrong answers", s.Text())
	}
}

func TestFirstKeyword(t *testing.T) {
	tests := []struct {
		d    Dialect
		in   string
		want string
	}{
		{Postgres, "select 1", "select"},
		{Postgres, "E'x'", ""},
		{Postgres, "U&'x'", ""},
		{MySQL, "# c\n  begin", "begin"},
		{Postgres, "((SELECT 1))", "SELECT"},
		{Postgres, "/* /* */ COMMIT */ ROLLBACK", "ROLLBACK"},
		{SQLite, "", ""},
		{SQLite, "?", ""},
	}
	for _, tt := range tests {
		if got := FirstKeyword(tt.d, 0, tt.in); got != tt.want {
			t.Errorf("FirstKeyword(%s, %q) = %q, want %q", tt.d, tt.in, got, tt.want)
		}
	}
}

func TestFirstKeywordAllocs(t *testing.T) {
	q := "/* c */ SELECT * FROM t WHERE id = ?; SELECT 2"
	if n := testing.AllocsPerRun(100, func() { FirstKeyword(MySQL, 0, q) }); n != 0 {
		t.Errorf("FirstKeyword allocates %v times", n)
	}
}
