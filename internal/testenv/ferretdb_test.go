package testenv

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestFerretDB(t *testing.T) {
	f := StartFerretDB(t)
	ctx := context.Background()
	c, err := mongo.Connect(options.Client().ApplyURI(f.URI).SetServerSelectionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	coll := c.Database("testenv").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "k", Value: "kept"}}); err != nil {
		t.Fatalf("insert: %v", err)
	}

	f.Stop()
	t.Run("ErrWhenStopped", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := c.Ping(ctx, nil); err == nil {
			t.Fatal("got nil, want an error from a stopped server")
		}
	})

	f.Start()
	t.Run("DataKeptAcrossRestart", func(t *testing.T) {
		n, err := coll.CountDocuments(ctx, bson.D{{Key: "k", Value: "kept"}})
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("got %d documents, want 1", n)
		}
	})
}
