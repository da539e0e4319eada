package databases

// Loading on PostgreSQL: pgx's CopyFrom, the COPY protocol in binary
// format, on the real connection.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// copyPostgres loads through pgx. Values go to pgx as Exec's arguments do:
// pgx's database/sql driver accepts every value and encodes it itself
// (driver.Valuer included), so they are passed unchanged.
func copyPostgres(ctx, dctx context.Context, _ *conn, rc *realConn, t *copyTarget, src CopySource) (int64, error) {
	sc, ok := rc.raw.(*stdlib.Conn)
	if !ok {
		return 0, fmt.Errorf("databases: copy into %s: the real driver is %T, not pgx", t.name(), rc.raw)
	}
	r := &copyReader{src: src, ctx: ctx, ncol: len(t.columns)}
	n, err := sc.Conn().CopyFrom(dctx, pgx.Identifier(t.table), t.columns, r)
	if err == nil {
		return n, nil
	}
	if ferr := r.failed(t); ferr != nil {
		return 0, ferr
	}
	ce := &CopyError{Table: t.name(), Row: r.rows - 1, Err: err} // pgx could not encode the last row read
	var pg *pgconn.PgError
	if errors.As(err, &pg) && !(pg.Code == "57014" && strings.HasPrefix(pg.Message, "COPY from stdin failed")) {
		// The server refused a row. (A failure pgx sent with CopyFail is
		// the client's: the server's line is then where it had got to.)
		ce.Row, ce.Column = pgCopyWhere(pg)
	}
	return 0, ce
}

// pgWhere reads the row and column of a COPY error from its context, as
// "COPY t, line 3, column b: …" (lines count from 1); -1 and "" for what
// it does not say.
var pgWhere = regexp.MustCompile(`^COPY [^,]*, line (\d+)(?:, column ([^:]+))?`)

func pgCopyWhere(pg *pgconn.PgError) (int64, string) {
	row, col := int64(-1), pg.ColumnName
	if m := pgWhere.FindStringSubmatch(pg.Where); m != nil {
		if line, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			row = line - 1
		}
		if m[2] != "" {
			col = m[2]
		}
	}
	return row, col
}
