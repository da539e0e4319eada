module github.com/go-databases/databases/bench

go 1.26.0

require (
	github.com/go-databases/databases v0.0.0
	github.com/jmoiron/sqlx v1.4.0
)

replace github.com/go-databases/databases => ../
