package dberr

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestConnectionErrors: which errors mean the connection cannot serve again
// (Unusable), which were met before anything was sent (Unsent), and which
// are a refused login that every host would refuse (LoginRefused).
func TestConnectionErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("databases: %w", err) }
	tests := []struct {
		name                           string
		err                            error
		unusable, unsent, loginRefused bool
	}{
		{"nil", nil, false, false, false},
		{"ErrBadConn", driver.ErrBadConn, true, true, false},
		{"wrapped ErrBadConn", wrap(driver.ErrBadConn), true, true, false},
		{"go-sql-driver invalid connection", mysql.ErrInvalidConn, true, false, false},
		{"EOF", io.EOF, true, false, false},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true, false, false},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true, false, false},
		{"broken pipe", wrap(syscall.EPIPE), true, false, false},
		{"net.ErrClosed", net.ErrClosed, true, false, false},
		{"57P01 admin shutdown", &pgconn.PgError{Code: "57P01"}, true, false, false},
		{"57P02 crash shutdown", wrap(&pgconn.PgError{Code: "57P02"}), true, false, false},
		{"57P03 cannot connect now", &pgconn.PgError{Code: "57P03"}, true, false, false},
		{"08006 connection failure", &pgconn.PgError{Code: "08006"}, true, false, false},
		{"40001 serialization failure", &pgconn.PgError{Code: "40001"}, false, false, false},
		{"23505 unique violation", &pgconn.PgError{Code: "23505"}, false, false, false},
		{"28P01 bad password", &pgconn.PgError{Code: "28P01"}, false, false, true},
		{"3D000 no database", &pgconn.PgError{Code: "3D000"}, false, false, true},
		{"MySQL 1927 connection killed", &mysql.MySQLError{Number: 1927}, true, false, false},
		{"MySQL 1053 server shutdown", &mysql.MySQLError{Number: 1053}, true, false, false},
		{"MySQL 1047 WSREP not ready", wrap(&mysql.MySQLError{Number: 1047}), true, false, false},
		{"MySQL 1213 deadlock", &mysql.MySQLError{Number: 1213}, false, false, false},
		{"MySQL 1045 access denied", &mysql.MySQLError{Number: 1045}, false, false, true},
		{"MySQL 1049 unknown database", &mysql.MySQLError{Number: 1049}, false, false, true},
		{"context canceled", context.Canceled, false, false, false},
		{"context deadline", wrap(context.DeadlineExceeded), true, false, false},
		{"other", errors.New("disk full"), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unusable(tt.err); got != tt.unusable {
				t.Errorf("Unusable = %v, want %v", got, tt.unusable)
			}
			if got := Unsent(tt.err); got != tt.unsent {
				t.Errorf("Unsent = %v, want %v", got, tt.unsent)
			}
			if got := LoginRefused(tt.err); got != tt.loginRefused {
				t.Errorf("LoginRefused = %v, want %v", got, tt.loginRefused)
			}
		})
	}
}
