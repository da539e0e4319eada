package databases_test

// Example of RedactURL: the URL as the package shows it.

import (
	"fmt"

	"github.com/go-databases/databases"
)

// RedactURL masks the password wherever a URL is shown.
func ExampleRedactURL() {
	fmt.Println(databases.RedactURL("postgres://app:s3cret@db.internal/shop?sslmode=require"))
	// Output: postgres://app:***@db.internal/shop?sslmode=require
}
