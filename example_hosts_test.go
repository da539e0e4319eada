package databases_test

// Examples of host lists: the error that names every host tried, and how
// a caller tells a COMMIT of unknown outcome from one that failed.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-databases/databases"
)

// A URL may name several servers. A new connection takes the first that
// answers and fits target_session_attrs; when none does, the error names
// every host tried and why, and never the password.
func Example_hostList() {
	db, err := sql.Open("databases", "mysql://app:s3cret@127.0.0.1:1,127.0.0.1:2/shop?target_session_attrs=read-write&connect_timeout=2")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	fmt.Println(db.Ping())
	// Output:
	// databases: no host of the list could serve a connection with target_session_attrs=read-write: 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused; 127.0.0.1:2: dial tcp 127.0.0.1:2: connect: connection refused
}

// A Commit whose connection was lost after COMMIT was sent may or may not
// have committed: its error says so with ErrCommitUnknown, and Transact
// does not run the function again. Here the function's own error is an
// ordinary failure, rolled back.
func ExampleErrCommitUnknown() {
	db, err := databases.Open("sqlite:///:memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	err = databases.Transact(context.Background(), db, nil, func(ctx context.Context, tx *sql.Tx) error {
		return errors.New("insufficient funds")
	})
	switch {
	case errors.Is(err, databases.ErrCommitUnknown):
		fmt.Println("unknown: look the transfer up by its key before trying again")
	case err != nil:
		fmt.Println("rolled back:", err)
	}
	// Output:
	// rolled back: insufficient funds
}
