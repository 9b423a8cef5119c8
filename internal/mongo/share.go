package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/yibi/yibi/internal/paint"
)

// ShareCollection holds the share links, one document per link.
const ShareCollection = "paint_shares"

var _ paint.ShareStore = (*Store)(nil)

// shareDoc is a link. Its _id is the token, because the public page looks
// links up by token, and FerretDB serves only an exact {_id: v} filter
// without scanning (see docID); a unique (openId, id) index keeps one
// link per paint.
type shareDoc struct {
	Token        string    `bson:"_id"`
	OpenID       string    `bson:"openId"`
	ID           string    `bson:"id"`
	PaintCreated time.Time `bson:"paintCreated"`
	CreatedAt    time.Time `bson:"createdAt"`
}

func (d shareDoc) share() paint.Share {
	return paint.Share{Token: d.Token, OpenID: d.OpenID, ID: d.ID, PaintCreated: d.PaintCreated}
}

// shareIndex is the index that makes a paint's link unique; a new value
// each time, because the driver writes to the options it is given.
func shareIndex() mongo.IndexModel {
	return mongo.IndexModel{
		Keys:    bson.D{{Key: "openId", Value: 1}, {Key: "id", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("openId_id"),
	}
}

// onceOK records that the share index exists. It is made on first use
// (Open stays as it was) and retried after a failure.
type onceOK struct {
	mu   sync.Mutex
	done bool
}

func (s *Store) sharesColl(ctx context.Context) (*mongo.Collection, error) {
	coll := s.coll.Database().Collection(ShareCollection)
	o := &s.shares
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return coll, nil
	}
	// Ask first: FerretDB v1.24 fails createIndexes for an index that
	// exists (see ensureIndexes).
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil && !isNamespaceNotFound(err) {
		return nil, wrap("list share indexes", err)
	}
	for _, sp := range specs {
		if sp.Name == "openId_id" {
			o.done = true
			return coll, nil
		}
	}
	if _, err := coll.Indexes().CreateOne(ctx, shareIndex()); err != nil {
		return nil, wrap("create share index", err)
	}
	o.done = true
	return coll, nil
}

// isNamespaceNotFound: listIndexes of a collection not made yet.
func isNamespaceNotFound(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(26)
}

// shareAttempts bounds Share's loop: each pass either returns or lost a
// race to a concurrent Share or Unshare of the same paint.
const shareAttempts = 5

// Share implements paint.ShareStore. The unique index decides a race
// between two Shares: the loser's insert fails as a duplicate and it
// returns the winner's link.
func (s *Store) Share(ctx context.Context, openID, id string, paintCreated time.Time, token string) (paint.Share, error) {
	coll, err := s.sharesColl(ctx)
	if err != nil {
		return paint.Share{}, err
	}
	created := time.UnixMilli(paintCreated.UnixMilli()).UTC()
	for range shareAttempts {
		var have shareDoc
		err := coll.FindOne(ctx, bson.D{{Key: "openId", Value: openID}, {Key: "id", Value: id}}).Decode(&have)
		switch {
		case err == nil && have.PaintCreated.UnixMilli() == created.UnixMilli():
			return have.share(), nil
		case err == nil:
			// A link of an earlier paint under this id: it goes.
			if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: have.Token}}); err != nil {
				return paint.Share{}, wrap("share", err)
			}
		case !errors.Is(err, mongo.ErrNoDocuments):
			return paint.Share{}, wrap("share", err)
		}
		d := shareDoc{Token: token, OpenID: openID, ID: id, PaintCreated: created, CreatedAt: time.Now().UTC()}
		_, err = coll.InsertOne(ctx, d)
		if err == nil {
			return d.share(), nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return paint.Share{}, wrap("share", err)
		}
	}
	return paint.Share{}, fmt.Errorf("mongo: share: %w: too many concurrent changes", paint.ErrUnavailable)
}

// Unshare implements paint.ShareStore.
func (s *Store) Unshare(ctx context.Context, openID, id string) error {
	coll, err := s.sharesColl(ctx)
	if err != nil {
		return err
	}
	if _, err := coll.DeleteMany(ctx, bson.D{{Key: "openId", Value: openID}, {Key: "id", Value: id}}); err != nil {
		return wrap("unshare", err)
	}
	return nil
}

// Shared implements paint.ShareStore.
func (s *Store) Shared(ctx context.Context, token string) (paint.Share, error) {
	coll := s.coll.Database().Collection(ShareCollection)
	var d shareDoc
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: token}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return paint.Share{}, paint.ErrNotShared
	}
	if err != nil {
		return paint.Share{}, wrap("shared", err)
	}
	return d.share(), nil
}
