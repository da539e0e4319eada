package databases

import (
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dsn"
)

// TestPositionToken checks WritePosition's tokens: each flavor's position
// comes back from its token, and a token of another backend, or one that
// is not a token, is refused with a message saying so.
func TestPositionToken(t *testing.T) {
	pg := newPositionReader(dsn.Postgres, backendOf(dsn.Postgres))
	my := newPositionReader(dsn.MySQL, backendOf(dsn.MySQL))
	for _, tt := range []struct {
		pr *positionReader
		p  position
	}{
		{pg, position{flavorPostgres, "0/16B3748"}},
		{pg, position{flavorPostgres, "FFFFFFFF/0"}},
		{my, position{flavorMariaDB, "0-1-42,1-2-7"}},
		{my, position{flavorMySQL, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11-18,4e11fa47-71ca-11e1-9e33-c80aa9429562:tag_a:1-3"}},
	} {
		tok := tt.p.token()
		if strings.ContainsAny(tok, ",;: \"\\/+=") {
			t.Errorf("token %q is not safe in a cookie", tok)
		}
		got, err := tt.pr.parse(tok)
		if err != nil || got != tt.p {
			t.Errorf("parse(token(%v)) = %v, %v", tt.p, got, err)
		}
	}
	for _, tt := range []struct {
		pr    *positionReader
		token string
		want  string
	}{
		{pg, "%%%", "not a token of databases.WritePosition"},
		{pg, position{flavorMariaDB, "0-1-2"}.token(), "a mariadb position, and this DB is postgres"},
		{my, position{flavorPostgres, "0/1"}.token(), "a pg position, and this DB is mysql"},
		{pg, position{flavorPostgres, "0/1'; DROP TABLE x; --"}.token(), "is not a pg position"},
		{my, position{flavorMariaDB, "0-1-2') OR ('"}.token(), "is not a mariadb position"},
	} {
		_, err := tt.pr.parse(tt.token)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parse(%q) = %v, want an error saying %q", tt.token, err, tt.want)
		}
	}
}
