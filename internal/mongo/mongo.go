// Package mongo is the paint.Store on MongoDB (or any server speaking its
// wire protocol, such as FerretDB), using the official v2 driver.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/yibi/yibi/internal/paint"
)

// Collection is the name of the collection that holds paints.
const Collection = "paints"

// Timeouts applied unless the URI sets its own (serverSelectionTimeoutMS,
// connectTimeoutMS, timeoutMS): a down server must fail a request in
// seconds, not hang it for the driver's 30 s default.
const (
	DefaultServerSelectionTimeout = 2 * time.Second
	DefaultConnectTimeout         = 2 * time.Second
	DefaultOperationTimeout       = 10 * time.Second
)

// Store is a paint.Store on one MongoDB database. It holds one client (and
// so one connection pool) for its lifetime; it is safe for concurrent use.
type Store struct {
	client *mongo.Client
	coll   *mongo.Collection
	writes keyLocks // one write at a time per paint (order.go)
}

var _ paint.Store = (*Store)(nil)

// docID is a paint's _id: its owner and its id, which together are unique.
// Paint ids have no '/' (paint.Validate), so the key is unambiguous.
//
// Writes address a paint by _id alone because a server may serve that
// faster than any other query: FerretDB v1.24's SQLite backend pushes a
// filter down to SQL only when it is exactly {_id: v}
// (backends/sqlite/collection.go, Query) and scans the whole collection
// for anything else. Documents written by other programs, with other
// _ids, are still found through (openId, id).
func docID(openID, id string) string { return openID + "/" + id }

type doc struct {
	OpenID    string    `bson:"openId"`
	ID        string    `bson:"id"`
	Actions   string    `bson:"actions"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// Open connects to uri, checks that the server answers, and makes sure the
// indexes of database's paints collection exist. A server that cannot be
// reached gives an error wrapping paint.ErrUnavailable.
func Open(ctx context.Context, uri, database string) (*Store, error) {
	opts := options.Client().
		SetServerSelectionTimeout(DefaultServerSelectionTimeout).
		SetConnectTimeout(DefaultConnectTimeout).
		SetTimeout(DefaultOperationTimeout).
		ApplyURI(uri) // last, so the URI's own settings win
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	s := &Store{client: client, coll: client.Database(database).Collection(Collection)}
	if err := s.Ping(ctx); err != nil {
		client.Disconnect(context.Background())
		return nil, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		client.Disconnect(context.Background())
		return nil, err
	}
	return s, nil
}

// indexes are the indexes of the paints collection, by name.
var indexes = map[string]mongo.IndexModel{
	// One paint per (user, id): the scoping the 2016 server lacked, and
	// what turns a concurrent double create into one paint, not two.
	"openId_id": {Keys: bson.D{{Key: "openId", Value: 1}, {Key: "id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("openId_id")},
	// List: one user's paints, newest first.
	"openId_createdAt": {Keys: bson.D{{Key: "openId", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName("openId_createdAt")},
}

// ensureIndexes creates the indexes that do not exist yet, by name.
// MongoDB accepts createIndexes for existing identical indexes, but FerretDB
// v1.24 (SQLite backend) panics on it ("slice bounds out of range") and
// drops the connection, so we ask first.
func (s *Store) ensureIndexes(ctx context.Context) error {
	specs, err := s.coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return wrap("list indexes", err)
	}
	have := make(map[string]bool, len(specs))
	for _, sp := range specs {
		have[sp.Name] = true
	}
	var missing []mongo.IndexModel
	for name, m := range indexes {
		if !have[name] {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := s.coll.Indexes().CreateMany(ctx, missing); err != nil {
		return wrap("create indexes", err)
	}
	return nil
}

// List implements paint.Store.
func (s *Store) List(ctx context.Context, openID string) ([]paint.Paint, error) {
	cur, err := s.coll.Find(ctx, bson.D{{Key: "openId", Value: openID}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "id", Value: -1}}))
	if err != nil {
		return nil, wrap("list", err)
	}
	defer cur.Close(ctx)
	ps := []paint.Paint{}
	for cur.Next(ctx) {
		var d doc
		if err := cur.Decode(&d); err != nil {
			return nil, wrap("list", err)
		}
		ps = append(ps, paint.Paint{OpenID: d.OpenID, ID: d.ID, Actions: d.Actions, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt})
	}
	if err := cur.Err(); err != nil {
		return nil, wrap("list", err)
	}
	return ps, nil
}

// Save implements paint.Store.
//
// The limit is enforced without transactions (FerretDB has none, and a
// standalone MongoDB neither): a count before the create rejects the common
// case cheaply, and a count after it catches concurrent creates by the same
// user; a create that finds the user over the limit deletes its own paint and
// returns ErrLimit. So a user never keeps more than max paints, but two
// racing creates at max-1 may both be refused (the client saves again), and
// a List that runs in that instant may briefly see max+1.
func (s *Store) Save(ctx context.Context, p paint.Paint, max int) (created bool, err error) {
	return inOrder(ctx, &s.writes, "save", docID(p.OpenID, p.ID), func(ctx context.Context) (bool, error) {
		return s.save(ctx, p, max)
	})
}

func (s *Store) save(ctx context.Context, p paint.Paint, max int) (created bool, err error) {
	byID := bson.D{{Key: "_id", Value: docID(p.OpenID, p.ID)}}
	key := bson.D{{Key: "openId", Value: p.OpenID}, {Key: "id", Value: p.ID}}
	set := bson.D{{Key: "actions", Value: p.Actions}, {Key: "updatedAt", Value: p.UpdatedAt}}
	// The draw page saves after every stroke, so replaces dominate: try
	// that first, it needs one round trip.
	res, err := s.coll.UpdateOne(ctx, byID, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, wrap("save", err)
	}
	if res.MatchedCount == 1 {
		return false, nil
	}
	if max > 0 {
		n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "openId", Value: p.OpenID}})
		if err != nil {
			return false, wrap("save", err)
		}
		if n >= int64(max) {
			return false, paint.ErrLimit
		}
	}
	// The filter names _id, openId and id, so a created paint gets all
	// three. A paint of the same (openId, id) under another _id (written
	// by another program) makes the insert a duplicate key: replace it.
	res, err = s.coll.UpdateOne(ctx, append(byID, key...), bson.D{
		{Key: "$set", Value: set},
		{Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: p.CreatedAt}}},
	}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Another save of the same paint created it between our two
		// updates (the upsert lost the race), or the paint has another
		// _id: this is a replace.
		res, err = s.coll.UpdateOne(ctx, key, bson.D{{Key: "$set", Value: set}})
		if err != nil {
			return false, wrap("save", err)
		}
		return false, nil
	}
	if err != nil {
		return false, wrap("save", err)
	}
	created = res.UpsertedCount == 1
	if created && max > 0 {
		n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "openId", Value: p.OpenID}})
		if err != nil {
			return true, wrap("save", err)
		}
		if n > int64(max) {
			if _, err := s.coll.DeleteOne(ctx, byID); err != nil {
				return false, wrap("save: undo over limit", err)
			}
			return false, paint.ErrLimit
		}
	}
	return created, nil
}

// Delete implements paint.Store.
func (s *Store) Delete(ctx context.Context, openID, id string) error {
	_, err := inOrder(ctx, &s.writes, "delete", docID(openID, id), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.delete(ctx, openID, id)
	})
	return err
}

func (s *Store) delete(ctx context.Context, openID, id string) error {
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: docID(openID, id)}})
	if err != nil {
		return wrap("delete", err)
	}
	if res.DeletedCount == 0 {
		// A paint written by another program, under another _id.
		res, err = s.coll.DeleteOne(ctx, bson.D{{Key: "openId", Value: openID}, {Key: "id", Value: id}})
		if err != nil {
			return wrap("delete", err)
		}
	}
	if res.DeletedCount == 0 {
		return paint.ErrNotFound
	}
	return nil
}

// Ping implements paint.Store: it asks the primary (or the only server).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close implements paint.Store: it closes the pool.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// wrap marks connectivity failures (no server selectable, network errors,
// timeouts, a closed client) as paint.ErrUnavailable, keeping the cause for
// the log. So are errors the server answers to our well-formed commands
// (other than a duplicate key, which callers handle): a server shutting
// down or stepping down answers InterruptedAtShutdown, NotWritablePrimary
// or, in FerretDB's case, InternalError, and the client should retry
// later rather than see an internal error.
func wrap(op string, err error) error {
	var sse topology.ServerSelectionError
	var se mongo.ServerError
	if errors.As(err, &sse) || mongo.IsNetworkError(err) || mongo.IsTimeout(err) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &se) && !mongo.IsDuplicateKeyError(err)) {
		return fmt.Errorf("mongo: %s: %w: %w", op, paint.ErrUnavailable, err)
	}
	return fmt.Errorf("mongo: %s: %w", op, err)
}
