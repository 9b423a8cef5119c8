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

	"github.com/yibi/yibi/internal/keylock"
	"github.com/yibi/yibi/internal/paint"
)

// Collection names: the paints, the revision claims (see Append) and
// each user's stored bytes (the quota).
const (
	Collection      = "paints"
	ClaimCollection = "paint_revs"
	UserCollection  = "paint_users"
)

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
	claims *mongo.Collection
	users  *mongo.Collection
	writes keylock.Locks // one write at a time per paint (order.go)
	shares onceOK        // the share links' index exists (share.go)
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
	DocID     any       `bson:"_id,omitempty"`
	OpenID    string    `bson:"openId"`
	ID        string    `bson:"id"`
	Actions   string    `bson:"actions"`
	Rev       int64     `bson:"rev"`  // absent (0) in paints written before revisions: rev 1
	Size      int64     `bson:"size"` // bytes of Actions; absent (0) likewise
	Gen       string    `bson:"gen"`  // made at creation; claims of a recreated paint differ
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// normalize fills the fields a paint written before revisions lacks.
func (d *doc) normalize() {
	if d.Rev == 0 {
		d.Rev = 1
	}
	d.Size = int64(len(d.Actions))
}

func (d *doc) paint() paint.Paint {
	return paint.Paint{OpenID: d.OpenID, ID: d.ID, Actions: d.Actions, Rev: d.Rev, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
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
	db := client.Database(database)
	s := &Store{client: client, coll: db.Collection(Collection), claims: db.Collection(ClaimCollection), users: db.Collection(UserCollection)}
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

// listBatch is the number of paints the server sends per batch of a
// List: at most 4 MiB held per request, whatever the user's total.
// Without their actions a paint is about a hundred bytes, so such a list
// goes in batches of listMetaBatch.
const (
	listBatch     = 4
	listMetaBatch = 128
)

// List implements paint.Store.
func (s *Store) List(ctx context.Context, openID string, page paint.Page, fn func(paint.Paint) error) error {
	filter := bson.D{{Key: "openId", Value: openID}}
	if c := page.After; c != nil {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: c.CreatedAt}}}},
			bson.D{{Key: "createdAt", Value: c.CreatedAt}, {Key: "id", Value: bson.D{{Key: "$lt", Value: c.ID}}}},
		}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "id", Value: -1}}).SetBatchSize(listBatch)
	if page.NoActions {
		// The server leaves the actions out of what it sends. It still
		// loads each document whole (MongoDB and FerretDB read documents,
		// not fields), but yibi neither receives nor decodes them.
		opts.SetProjection(bson.D{{Key: "actions", Value: 0}}).SetBatchSize(listMetaBatch)
	}
	if page.Limit > 0 {
		opts.SetLimit(int64(page.Limit))
	}
	cur, err := s.coll.Find(ctx, filter, opts)
	if err != nil {
		return wrap("list", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var d doc
		if err := cur.Decode(&d); err != nil {
			return wrap("list", err)
		}
		d.normalize()
		if err := fn(d.paint()); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return wrap("list", err)
	}
	return nil
}

// Get implements paint.Store.
func (s *Store) Get(ctx context.Context, openID, id string) (paint.Paint, error) {
	d, err := s.find(ctx, openID, id)
	if err != nil {
		return paint.Paint{}, wrap("get", err)
	}
	return d.paint(), nil
}

// find reads the paint by _id, or by (openId, id) for a paint written by
// another program; ErrNotFound if neither has it.
func (s *Store) find(ctx context.Context, openID, id string) (doc, error) {
	var d doc
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: docID(openID, id)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = s.coll.FindOne(ctx, bson.D{{Key: "openId", Value: openID}, {Key: "id", Value: id}}).Decode(&d)
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, paint.ErrNotFound
	}
	if err != nil {
		return d, err
	}
	d.normalize()
	return d, nil
}

// Revisions without transactions. A conditional update on rev is not
// enough: FerretDB v1.24 runs an update as a query and then a write, in
// no transaction (handler/msg_update.go), so two updates conditional on
// one rev can both match. What every MongoDB-wire server makes atomic is
// a unique _id. So a write that moves a paint from rev r to r+1 first
// inserts the claim {_id: "<owner>/<id>@<gen>@<r+1>"} into paint_revs:
// of all writers, in any process, on the same rev, exactly one inserts
// it; the others get a duplicate key and see a conflict (Append) or read
// again (Save). The winner then writes the paint, by _id. A paint is
// created by inserting it, which its _id makes atomic too.
//
// A writer that dies between its claim and its write leaves the paint at
// r with r+1 claimed; once the claim is older than claimStale (beyond
// any live writer, WriteTimeout) the next writer claims r+2 instead, so
// no paint stays stuck.
const claimStale = 2 * WriteTimeout

// claimsKept is how many claims of a paint are kept behind its current
// revision: a writer that read rev r must still find r+1 claimed when it
// tries, however late; older claims are deleted as the paint moves on.
const claimsKept = 64

func claimID(d doc, rev int64) string {
	return fmt.Sprintf("%s@%s@%d", docID(d.OpenID, d.ID), d.Gen, rev)
}

var errClaimed = errors.New("mongo: revision claimed by another writer")

// claim claims the revision after d's, returning it, or errClaimed.
func (s *Store) claim(ctx context.Context, d doc, now time.Time) (int64, error) {
	next := d.Rev + 1
	for range 3 {
		_, err := s.claims.InsertOne(ctx, bson.D{{Key: "_id", Value: claimID(d, next)}, {Key: "at", Value: now}})
		if err == nil {
			if next > claimsKept {
				// Best effort: a claim left over costs a few bytes.
				_, _ = s.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: claimID(d, next-claimsKept)}})
			}
			return next, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, err
		}
		var held struct {
			At time.Time `bson:"at"`
		}
		if err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: claimID(d, next)}}).Decode(&held); err != nil || now.Sub(held.At) < claimStale {
			return 0, errClaimed
		}
		next++ // its writer is gone: skip its revision
	}
	return 0, errClaimed
}

// Save implements paint.Store. See above for revisions. The limit is
// enforced without transactions (FerretDB has none, and a standalone
// MongoDB neither): a count before the create rejects the common case
// cheaply, and a count after it catches concurrent creates by the same
// user; a create that finds the user over the limit deletes its own
// paint and returns ErrLimit. So a user never keeps more than max
// paints, but two racing creates at max-1 may both be refused (the
// client saves again), and a List that runs in that instant may briefly
// see max+1.
func (s *Store) Save(ctx context.Context, p paint.Paint, lim paint.Limits) (created bool, err error) {
	return inOrder(ctx, &s.writes, "save", docID(p.OpenID, p.ID), func(ctx context.Context) (bool, error) {
		return s.save(ctx, p, lim)
	})
}

// saveAttempts bounds Save's rereads when other writers keep moving the
// paint's revision.
const saveAttempts = 8

func (s *Store) save(ctx context.Context, p paint.Paint, lim paint.Limits) (created bool, err error) {
	size := int64(len(p.Actions))
	for range saveAttempts {
		d, err := s.find(ctx, p.OpenID, p.ID)
		if errors.Is(err, paint.ErrNotFound) {
			if err := s.checkCreate(ctx, p.OpenID, size, lim); err != nil {
				return false, err
			}
			err := s.create(ctx, p)
			if mongo.IsDuplicateKeyError(err) {
				continue // created meanwhile: replace it
			}
			if err != nil {
				return false, err
			}
			return true, s.checkLimitAfterCreate(ctx, p, lim)
		}
		if err != nil {
			return false, wrap("save", err)
		}
		if err := s.checkQuota(ctx, p.OpenID, size-d.Size, lim); err != nil {
			return false, err
		}
		next, err := s.claim(ctx, d, p.UpdatedAt)
		if errors.Is(err, errClaimed) {
			continue
		}
		if err != nil {
			return false, wrap("save", err)
		}
		if err := s.update(ctx, d, next, p.Actions, p.UpdatedAt); err != nil {
			return false, err
		}
		return false, nil
	}
	return false, fmt.Errorf("mongo: save: %w: the paint's revision kept moving", paint.ErrUnavailable)
}

// Append implements paint.Store; see Save for revisions.
func (s *Store) Append(ctx context.Context, openID, id string, rev int64, actions string, now time.Time, lim paint.Limits) (int64, error) {
	return inOrder(ctx, &s.writes, "append", docID(openID, id), func(ctx context.Context) (int64, error) {
		return s.append(ctx, openID, id, rev, actions, now, lim)
	})
}

func (s *Store) append(ctx context.Context, openID, id string, rev int64, actions string, now time.Time, lim paint.Limits) (int64, error) {
	d, err := s.find(ctx, openID, id)
	switch {
	case errors.Is(err, paint.ErrNotFound) && rev == 0:
		p := paint.Paint{OpenID: openID, ID: id, Actions: actions, CreatedAt: now, UpdatedAt: now}
		if err := s.checkCreate(ctx, openID, int64(len(actions)), lim); err != nil {
			return 0, err
		}
		if err := s.create(ctx, p); mongo.IsDuplicateKeyError(err) {
			return 0, s.conflict(ctx, openID, id, 1)
		} else if err != nil {
			return 0, err
		}
		return 1, s.checkLimitAfterCreate(ctx, p, lim)
	case errors.Is(err, paint.ErrNotFound):
		return 0, &paint.ConflictError{Rev: 0}
	case err != nil:
		return 0, wrap("append", err)
	case d.Rev != rev:
		return 0, &paint.ConflictError{Rev: d.Rev}
	}
	joined, err := paint.Concat(d.Actions, actions)
	if err != nil {
		return 0, err
	}
	if lim.ActionsBytes > 0 && len(joined) > lim.ActionsBytes {
		return 0, paint.ErrTooLarge
	}
	if err := s.checkQuota(ctx, openID, int64(len(joined))-d.Size, lim); err != nil {
		return 0, err
	}
	next, err := s.claim(ctx, d, now)
	if errors.Is(err, errClaimed) {
		return 0, s.conflict(ctx, openID, id, rev+1)
	}
	if err != nil {
		return 0, wrap("append", err)
	}
	if err := s.update(ctx, d, next, joined, now); err != nil {
		return 0, err
	}
	return next, nil
}

// conflict is the ConflictError of a writer that lost rev atLeast: the
// paint's revision as read now, or atLeast while the winner's write is
// still on its way.
func (s *Store) conflict(ctx context.Context, openID, id string, atLeast int64) error {
	d, err := s.find(ctx, openID, id)
	if err != nil && !errors.Is(err, paint.ErrNotFound) {
		return wrap("append", err)
	}
	return &paint.ConflictError{Rev: max(d.Rev, atLeast)}
}

// create inserts a new paint at rev 1; its _id makes it fail with a
// duplicate key if the paint exists.
func (s *Store) create(ctx context.Context, p paint.Paint) error {
	gen := bson.NewObjectID().Hex()
	_, err := s.coll.InsertOne(ctx, doc{DocID: docID(p.OpenID, p.ID), OpenID: p.OpenID, ID: p.ID, Actions: p.Actions,
		Rev: 1, Size: int64(len(p.Actions)), Gen: gen, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt})
	if err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return err
		}
		return wrap("create", err)
	}
	return s.account(ctx, p.OpenID, int64(len(p.Actions)))
}

// update writes the paint d at the revision rev its writer claimed.
func (s *Store) update(ctx context.Context, d doc, rev int64, actions string, now time.Time) error {
	set := bson.D{{Key: "actions", Value: actions}, {Key: "size", Value: len(actions)}, {Key: "rev", Value: rev}, {Key: "updatedAt", Value: now}}
	res, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.DocID}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return wrap("update", err)
	}
	if res.MatchedCount == 0 {
		return &paint.ConflictError{Rev: 0} // deleted meanwhile
	}
	return s.account(ctx, d.OpenID, int64(len(actions))-d.Size)
}

func (s *Store) checkCreate(ctx context.Context, openID string, size int64, lim paint.Limits) error {
	if lim.Paints > 0 {
		n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "openId", Value: openID}})
		if err != nil {
			return wrap("count", err)
		}
		if n >= int64(lim.Paints) {
			return paint.ErrLimit
		}
	}
	return s.checkQuota(ctx, openID, size, lim)
}

func (s *Store) checkLimitAfterCreate(ctx context.Context, p paint.Paint, lim paint.Limits) error {
	if lim.Paints <= 0 {
		return nil
	}
	n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "openId", Value: p.OpenID}})
	if err != nil {
		return wrap("count", err)
	}
	if n > int64(lim.Paints) {
		if err := s.delete(ctx, p.OpenID, p.ID); err != nil {
			return wrap("undo over limit", err)
		}
		return paint.ErrLimit
	}
	return nil
}

// The per-user quota: paint_users holds {_id: openId, bytes}, the total
// size of the user's paints, kept by $inc after each write (made from
// the paints themselves when first needed). It is checked before a
// write, without a transaction: concurrent writes of one user may pass
// the quota by their own sizes at most.

// checkQuota fails with ErrQuota if growing the user's paints by delta
// bytes passes lim.UserBytes.
func (s *Store) checkQuota(ctx context.Context, openID string, delta int64, lim paint.Limits) error {
	if lim.UserBytes <= 0 || delta <= 0 {
		return nil
	}
	total, err := s.userBytes(ctx, openID)
	if err != nil {
		return err
	}
	if total+delta > lim.UserBytes {
		return paint.ErrQuota
	}
	return nil
}

// userBytes reads the user's total, making it from the user's paints if
// it is not kept yet.
func (s *Store) userBytes(ctx context.Context, openID string) (int64, error) {
	var u struct {
		Bytes int64 `bson:"bytes"`
	}
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: openID}}).Decode(&u)
	if err == nil {
		return u.Bytes, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, wrap("quota", err)
	}
	var total int64
	err = s.List(ctx, openID, paint.Page{}, func(p paint.Paint) error { total += int64(len(p.Actions)); return nil })
	if err != nil {
		return 0, err
	}
	if _, err := s.users.InsertOne(ctx, bson.D{{Key: "_id", Value: openID}, {Key: "bytes", Value: total}}); mongo.IsDuplicateKeyError(err) {
		return s.userBytes(ctx, openID) // made meanwhile
	} else if err != nil {
		return 0, wrap("quota", err)
	}
	return total, nil
}

// account adds delta to the user's kept total.
func (s *Store) account(ctx context.Context, openID string, delta int64) error {
	if delta == 0 {
		return nil
	}
	if _, err := s.userBytes(ctx, openID); err != nil {
		return err
	}
	if _, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: openID}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "bytes", Value: delta}}}}); err != nil {
		return wrap("quota", err)
	}
	return nil
}

// Delete implements paint.Store.
func (s *Store) Delete(ctx context.Context, openID, id string) error {
	_, err := inOrder(ctx, &s.writes, "delete", docID(openID, id), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.delete(ctx, openID, id)
	})
	return err
}

func (s *Store) delete(ctx context.Context, openID, id string) error {
	var d doc
	err := s.coll.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: docID(openID, id)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		// A paint written by another program, under another _id.
		err = s.coll.FindOneAndDelete(ctx, bson.D{{Key: "openId", Value: openID}, {Key: "id", Value: id}}).Decode(&d)
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return paint.ErrNotFound
	}
	if err != nil {
		return wrap("delete", err)
	}
	d.normalize()
	return s.account(ctx, openID, -d.Size)
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
