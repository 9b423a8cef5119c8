// Package readme holds no code, only tests: they run the commands the
// README shows a newcomer (its curl session, its load example) against
// the real yibi binary in development mode, so that every command there
// works when pasted.
//
// A fenced sh block right after the line "<!-- readme-test: run -->" is
// run by TestREADMEBlocks: as one bash script, with http://127.0.0.1:5757
// replaced by the test server's URL, in a temporary directory. Each run of
// "# → " lines after a command is the output that command must print,
// where "…" matches anything. A new marked block is picked up by itself.
//
// The binary is $YIBI_BIN (scripts/test.sh builds it) or, without it,
// ./cmd/yibi built into a temporary directory.
package readme
