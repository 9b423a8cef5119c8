package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/yibi/yibi/internal/keylock"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/profile"
)

// Collections of the profile store, in the paint store's database.
const (
	UsersCollection      = "users"       // _id: openId
	PhoneCodesCollection = "phone_codes" // _id: hex SHA-256 of a getPhoneNumber code
	AvatarsCollection    = "avatars"     // _id: the avatar's name
)

// ProfileStore is the profile.Store on a Store's database. Every write
// addresses one document by _id, which is atomic on MongoDB and FerretDB
// alike without transactions (FerretDB v1 has none).
type ProfileStore struct {
	users, codes, avatars *mongo.Collection
	// users are written one at a time per user: FerretDB v1.24 applies an
	// update by reading the document and writing it back whole, in two
	// steps (handler/msg_findandmodify.go: Query, then UpdateDocument), so two
	// concurrent $sets of different fields (a nickname and an avatar) can
	// lose one (MongoDB applies each atomically). Within one process this
	// keeps both; across processes on FerretDB it does not.
	userLocks keylock.Locks
}

var _ profile.Store = (*ProfileStore)(nil)

// NewProfileStore returns the profile.Store in s's database. It shares s's
// client: closing s closes it. _id is the only key, so no index is made.
func NewProfileStore(s *Store) *ProfileStore {
	db := s.coll.Database()
	return &ProfileStore{users: db.Collection(UsersCollection), codes: db.Collection(PhoneCodesCollection),
		avatars: db.Collection(AvatarsCollection)}
}

type userDoc struct {
	OpenID   string    `bson:"_id"`
	NickName string    `bson:"nickName"`
	Avatar   string    `bson:"avatar"`
	Phone    phoneDoc  `bson:"phone"`
	Updated  time.Time `bson:"updatedAt"`
}

type phoneDoc struct {
	PhoneNumber     string `bson:"phoneNumber"`
	PurePhoneNumber string `bson:"purePhoneNumber"`
	CountryCode     string `bson:"countryCode"`
	CodeHash        string `bson:"codeHash"`
}

type codeDoc struct {
	CodeHash string    `bson:"_id"`
	OpenID   string    `bson:"openId"`
	Phone    phoneDoc  `bson:"phone"`
	Created  time.Time `bson:"createdAt"`
}

type avatarDoc struct {
	Name        string    `bson:"_id"`
	ContentType string    `bson:"contentType"`
	Data        []byte    `bson:"data"`
	Created     time.Time `bson:"createdAt"`
}

// profileErr is wrap with profile.ErrUnavailable for the faults that wrap
// marks paint.ErrUnavailable.
func profileErr(op string, err error) error {
	err = wrap(op, err)
	if errors.Is(err, paint.ErrUnavailable) {
		return fmt.Errorf("%w: %w", profile.ErrUnavailable, err)
	}
	return err
}

func (d userDoc) profile() profile.Profile {
	return profile.Profile{OpenID: d.OpenID, NickName: d.NickName, Avatar: d.Avatar, Phone: profile.Phone(d.Phone)}
}

// Get implements profile.Store.
func (p *ProfileStore) Get(ctx context.Context, openID string) (profile.Profile, bool, error) {
	var d userDoc
	err := p.users.FindOne(ctx, bson.D{{Key: "_id", Value: openID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return profile.Profile{}, false, nil
	}
	if err != nil {
		return profile.Profile{}, false, profileErr("get profile", err)
	}
	return d.profile(), true, nil
}

// Update implements profile.Store: one upsert that sets only the given
// fields, so concurrent updates of different fields both survive.
func (p *ProfileStore) Update(ctx context.Context, openID string, u profile.Update) (profile.Profile, error) {
	set := bson.D{{Key: "updatedAt", Value: time.Now().UTC()}}
	if u.NickName != nil {
		set = append(set, bson.E{Key: "nickName", Value: *u.NickName})
	}
	if u.Avatar != nil {
		set = append(set, bson.E{Key: "avatar", Value: *u.Avatar})
	}
	unlock, err := p.userLocks.Lock(ctx, openID)
	if err != nil {
		return profile.Profile{}, profileErr("update profile", err)
	}
	defer unlock()
	var d userDoc
	err = upsert(func() error {
		return p.users.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: openID}}, bson.D{{Key: "$set", Value: set}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	})
	if err != nil {
		return profile.Profile{}, profileErr("update profile", err)
	}
	return d.profile(), nil
}

// upsert runs an upsert, again when it fails with a duplicate key: two
// concurrent upserts of one missing _id both try to insert, and the loser
// gets E11000 although a retry (now an update) succeeds. MongoDB retries
// some of these itself, FerretDB none.
func upsert(do func() error) error {
	err := do()
	for range 3 {
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
		err = do()
	}
	return err
}

// SavePhone implements profile.Store. The code's document is inserted
// first: its unique _id makes one user its owner however many race. Then
// the user's phone is set; a crash between the two leaves a code that its
// owner's retry completes.
func (p *ProfileStore) SavePhone(ctx context.Context, openID string, ph profile.Phone) error {
	pd := phoneDoc(ph)
	_, err := p.codes.InsertOne(ctx, codeDoc{CodeHash: ph.CodeHash, OpenID: openID, Phone: pd, Created: time.Now().UTC()})
	if mongo.IsDuplicateKeyError(err) {
		owner, _, found, gerr := p.PhoneByCode(ctx, ph.CodeHash)
		switch {
		case gerr != nil:
			return gerr
		case !found || owner != openID:
			return profile.ErrCodeTaken
		}
	} else if err != nil {
		return profileErr("save phone", err)
	}
	unlock, err := p.userLocks.Lock(ctx, openID)
	if err != nil {
		return profileErr("save phone", err)
	}
	defer unlock()
	err = upsert(func() error {
		_, err := p.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: openID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "phone", Value: pd}, {Key: "updatedAt", Value: time.Now().UTC()}}}},
			options.UpdateOne().SetUpsert(true))
		return err
	})
	if err != nil {
		return profileErr("save phone", err)
	}
	return nil
}

// PhoneByCode implements profile.Store.
func (p *ProfileStore) PhoneByCode(ctx context.Context, codeHash string) (string, profile.Phone, bool, error) {
	var d codeDoc
	err := p.codes.FindOne(ctx, bson.D{{Key: "_id", Value: codeHash}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", profile.Phone{}, false, nil
	}
	if err != nil {
		return "", profile.Phone{}, false, profileErr("phone by code", err)
	}
	return d.OpenID, profile.Phone(d.Phone), true, nil
}

// PutAvatar implements profile.Store.
func (p *ProfileStore) PutAvatar(ctx context.Context, a profile.Avatar) error {
	_, err := p.avatars.InsertOne(ctx, avatarDoc{Name: a.Name, ContentType: a.ContentType, Data: a.Data, Created: time.Now().UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return profileErr("put avatar", err)
	}
	return nil
}

// Avatar implements profile.Store.
func (p *ProfileStore) Avatar(ctx context.Context, name string) (profile.Avatar, bool, error) {
	var d avatarDoc
	err := p.avatars.FindOne(ctx, bson.D{{Key: "_id", Value: name}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return profile.Avatar{}, false, nil
	}
	if err != nil {
		return profile.Avatar{}, false, profileErr("get avatar", err)
	}
	return profile.Avatar{Name: d.Name, ContentType: d.ContentType, Data: d.Data}, true, nil
}
