// Package deploy holds Yibi's deployment files (nginx site, systemd unit,
// compose file) and the test that runs the nginx site for real in front of
// a backend. It has no code of its own.
package deploy
