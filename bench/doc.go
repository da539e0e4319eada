// Package bench compares databases with its peers: the same work done by
// another library, measured in the same run. It is a module of its own (its
// go.mod replaces the root with ../) so that the library's go.mod does not
// carry the peers:
//
//	cd bench && go test -run '^$' -bench .
package bench
