// Command ferretdb-embedded runs FerretDB v1 with its SQLite handler as the
// MongoDB-wire test server of django-nonrel's suite.
//
// It embeds the github.com/FerretDB/FerretDB/ferretdb package so the suite needs
// no MongoDB binary and no PostgreSQL: one Go build from the module proxy gives
// a server that speaks the wire protocol and keeps its data in a directory of
// SQLite files. tests/servers/ferretdb.py builds, starts and stops it.
//
// Once the listener is bound it prints one line to stdout,
//
//	ferretdb-embedded ready mongodb://127.0.0.1:PORT/
//
// so a caller that asked for port 0 learns which port it got. SIGTERM or
// SIGINT closes the listener and the SQLite files, then the program exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port")
	dataDir := flag.String("data-dir", "", "directory for the SQLite files (created if missing)")
	logLevel := flag.String("log-level", "warn", "FerretDB log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *dataDir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-embedded: %s\n", err)
		os.Exit(1)
	}
}

func run(listenAddr, dataDir, logLevel string) error {
	if dataDir == "" {
		return fmt.Errorf("-data-dir is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}

	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}

	if err = os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Handler:  "sqlite",
		// The SQLite handler takes a directory URI, which must end with a slash.
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI waits until Run has bound the listener, so it must come after Run starts.
	fmt.Printf("ferretdb-embedded ready %s\n", f.MongoDBURI())

	return <-done
}
