CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- Reference data: Kazakhstan's cities of republican significance and oblasts.
CREATE TABLE regions (
    code    TEXT PRIMARY KEY,
    name_ru TEXT    NOT NULL,
    name_kk TEXT    NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('city', 'oblast')),
    sort    INTEGER NOT NULL
);

INSERT INTO regions (code, name_ru, name_kk, kind, sort) VALUES
    ('astana', 'Астана', 'Астана', 'city', 1),
    ('almaty', 'Алматы', 'Алматы', 'city', 2),
    ('shymkent', 'Шымкент', 'Шымкент', 'city', 3),
    ('abai', 'Абайская область', 'Абай облысы', 'oblast', 10),
    ('akmola', 'Акмолинская область', 'Ақмола облысы', 'oblast', 11),
    ('aktobe', 'Актюбинская область', 'Ақтөбе облысы', 'oblast', 12),
    ('almaty_oblast', 'Алматинская область', 'Алматы облысы', 'oblast', 13),
    ('atyrau', 'Атырауская область', 'Атырау облысы', 'oblast', 14),
    ('east_kazakhstan', 'Восточно-Казахстанская область', 'Шығыс Қазақстан облысы', 'oblast', 15),
    ('jambyl', 'Жамбылская область', 'Жамбыл облысы', 'oblast', 16),
    ('jetisu', 'Область Жетісу', 'Жетісу облысы', 'oblast', 17),
    ('karaganda', 'Карагандинская область', 'Қарағанды облысы', 'oblast', 18),
    ('kostanay', 'Костанайская область', 'Қостанай облысы', 'oblast', 19),
    ('kyzylorda', 'Кызылординская область', 'Қызылорда облысы', 'oblast', 20),
    ('mangystau', 'Мангистауская область', 'Маңғыстау облысы', 'oblast', 21),
    ('north_kazakhstan', 'Северо-Казахстанская область', 'Солтүстік Қазақстан облысы', 'oblast', 22),
    ('pavlodar', 'Павлодарская область', 'Павлодар облысы', 'oblast', 23),
    ('turkestan', 'Туркестанская область', 'Түркістан облысы', 'oblast', 24),
    ('ulytau', 'Область Улытау', 'Ұлытау облысы', 'oblast', 25),
    ('west_kazakhstan', 'Западно-Казахстанская область', 'Батыс Қазақстан облысы', 'oblast', 26);

-- A two-level furniture category tree.
CREATE TABLE categories (
    code        TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES categories (code),
    name_ru     TEXT    NOT NULL,
    name_kk     TEXT    NOT NULL,
    sort        INTEGER NOT NULL
);

INSERT INTO categories (code, parent_code, name_ru, name_kk, sort) VALUES
    ('kitchens', NULL, 'Кухни', 'Ас үй жиһазы', 1),
    ('cabinet', NULL, 'Корпусная мебель', 'Корпустық жиһаз', 2),
    ('upholstered', NULL, 'Мягкая мебель', 'Жұмсақ жиһаз', 3),
    ('bedroom', NULL, 'Спальни', 'Жатын бөлме жиһазы', 4),
    ('tables_chairs', NULL, 'Столы и стулья', 'Үстелдер мен орындықтар', 5),
    ('children', NULL, 'Детская мебель', 'Балалар жиһазы', 6),
    ('office', NULL, 'Офисная мебель', 'Кеңсе жиһазы', 7),
    ('bathroom', NULL, 'Мебель для ванной', 'Жуынатын бөлме жиһазы', 8),
    ('restoration', NULL, 'Реставрация мебели', 'Жиһазды қалпына келтіру', 9),
    ('wardrobes', 'cabinet', 'Шкафы', 'Шкафтар', 21),
    ('sliding_wardrobes', 'cabinet', 'Шкафы-купе', 'Купе шкафтары', 22),
    ('walk_in_closets', 'cabinet', 'Гардеробные', 'Киім бөлмелері', 23),
    ('hallways', 'cabinet', 'Прихожие', 'Кіреберіс жиһазы', 24),
    ('sofas', 'upholstered', 'Диваны', 'Дивандар', 31),
    ('armchairs', 'upholstered', 'Кресла', 'Креслолар', 32),
    ('beds', 'bedroom', 'Кровати', 'Кереуеттер', 41),
    ('dressers', 'bedroom', 'Комоды', 'Комодтар', 42),
    ('tables', 'tables_chairs', 'Столы', 'Үстелдер', 51),
    ('chairs', 'tables_chairs', 'Стулья', 'Орындықтар', 52),
    ('reupholstery', 'restoration', 'Перетяжка мебели', 'Жиһазды қайта қаптау', 91);

-- Users as the auth service announces them (a projection built from its events), with what
-- this service adds for masters: the regions and categories they serve and their statistics.
-- A row may exist before its profile arrives (stats or points first): then `username` is NULL.
CREATE TABLE users (
    id               BIGINT PRIMARY KEY,
    username         TEXT,
    role             TEXT    NOT NULL DEFAULT 'buyer' CHECK (role IN ('buyer', 'master', 'admin')),
    first_name       TEXT,
    last_name        TEXT,
    avatar_url       TEXT,
    region_code      TEXT REFERENCES regions (code),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    served_regions   TEXT[]  NOT NULL DEFAULT '{}',
    served_categories TEXT[] NOT NULL DEFAULT '{}',
    about            TEXT,
    rating_sum       BIGINT  NOT NULL DEFAULT 0,
    review_count     INTEGER NOT NULL DEFAULT 0,
    completed_orders INTEGER NOT NULL DEFAULT 0,
    points           BIGINT  NOT NULL DEFAULT 0,
    search_text      TEXT GENERATED ALWAYS AS (
        coalesce(username, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '')) STORED,
    search_document  TSVECTOR GENERATED ALWAYS AS (to_tsvector('russian',
        coalesce(username, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' '
        || coalesce(about, ''))) STORED,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX users_masters_rating ON users ((CASE WHEN review_count = 0 THEN 0 ELSE rating_sum::float8 / review_count END) DESC, id)
    WHERE role = 'master' AND active AND username IS NOT NULL;
CREATE INDEX users_served_regions ON users USING gin (served_regions) WHERE role = 'master';
CREATE INDEX users_served_categories ON users USING gin (served_categories) WHERE role = 'master';
CREATE INDEX users_search_document ON users USING gin (search_document) WHERE role = 'master';
CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops) WHERE role = 'master';

CREATE TABLE requests (
    id             BIGSERIAL PRIMARY KEY,
    buyer_id       BIGINT      NOT NULL,
    title          TEXT        NOT NULL,
    description    TEXT        NOT NULL,
    region_code    TEXT        NOT NULL REFERENCES regions (code),
    categories     TEXT[]      NOT NULL,
    budget         BIGINT CHECK (budget >= 0),
    images         TEXT[]      NOT NULL DEFAULT '{}',
    status         TEXT        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_progress', 'completed', 'cancelled', 'expired')),
    views          BIGINT      NOT NULL DEFAULT 0,
    proposal_count INTEGER     NOT NULL DEFAULT 0,
    expires_at     TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    search_document TSVECTOR GENERATED ALWAYS AS (to_tsvector('russian', title || ' ' || description)) STORED
);
CREATE INDEX requests_buyer ON requests (buyer_id, created_at DESC, id DESC);
-- The masters' feed: open requests by region, newest first; categories and text narrow it.
CREATE INDEX requests_open_by_region ON requests (region_code, created_at DESC, id DESC) WHERE status = 'pending';
CREATE INDEX requests_open ON requests (created_at DESC, id DESC) WHERE status = 'pending';
CREATE INDEX requests_open_categories ON requests USING gin (categories) WHERE status = 'pending';
CREATE INDEX requests_search ON requests USING gin (search_document) WHERE status = 'pending';
CREATE INDEX requests_expiry ON requests (expires_at) WHERE status = 'pending';

CREATE TABLE proposals (
    id            BIGSERIAL PRIMARY KEY,
    request_id    BIGINT      NOT NULL REFERENCES requests (id),
    master_id     BIGINT      NOT NULL,
    price         BIGINT      NOT NULL CHECK (price > 0),
    deadline_days INTEGER     NOT NULL CHECK (deadline_days BETWEEN 1 AND 365),
    message       TEXT        NOT NULL,
    status        TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (request_id, master_id)
);
CREATE INDEX proposals_master ON proposals (master_id, created_at DESC, id DESC);

CREATE TABLE orders (
    id             BIGSERIAL PRIMARY KEY,
    request_id     BIGINT      NOT NULL UNIQUE REFERENCES requests (id),
    proposal_id    BIGINT      NOT NULL UNIQUE REFERENCES proposals (id),
    buyer_id       BIGINT      NOT NULL,
    master_id      BIGINT      NOT NULL,
    title          TEXT        NOT NULL,
    price          BIGINT      NOT NULL,
    deadline_days  INTEGER     NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    status         TEXT        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'in_progress', 'completed', 'cancelled', 'revision')),
    delivered_at   TIMESTAMPTZ,
    revision_notes TEXT,
    completed_at   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX orders_buyer ON orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_master ON orders (master_id, created_at DESC, id DESC);

CREATE TABLE order_status_history (
    id          BIGSERIAL PRIMARY KEY,
    order_id    BIGINT      NOT NULL REFERENCES orders (id),
    from_status TEXT,
    to_status   TEXT        NOT NULL,
    action      TEXT        NOT NULL,
    actor_id    BIGINT      NOT NULL,
    note        TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);

CREATE TABLE reviews (
    id         BIGSERIAL PRIMARY KEY,
    order_id   BIGINT      NOT NULL UNIQUE REFERENCES orders (id),
    buyer_id   BIGINT      NOT NULL,
    master_id  BIGINT      NOT NULL,
    rating     SMALLINT    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    text       TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reviews_master ON reviews (master_id, created_at DESC, id DESC);

-- Gamification: an append-only ledger; `source` names the action, so each awards once.
CREATE TABLE points_ledger (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    points     INTEGER     NOT NULL,
    reason     TEXT        NOT NULL,
    source     TEXT        NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX points_ledger_user ON points_ledger (user_id, created_at);
CREATE INDEX points_ledger_created ON points_ledger (created_at);

-- How many times each rewarded action happened to a user (achievements count these).
CREATE TABLE player_counters (
    user_id BIGINT NOT NULL,
    counter TEXT   NOT NULL,
    value   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, counter)
);

CREATE TABLE achievements (
    code        TEXT PRIMARY KEY,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    counter     TEXT    NOT NULL,
    threshold   BIGINT  NOT NULL,
    sort        INTEGER NOT NULL
);

INSERT INTO achievements (code, title, description, counter, threshold, sort) VALUES
    ('first_request', 'Первая заявка', 'Опубликовал первую заявку', 'requests_created', 1, 1),
    ('first_order', 'Первый заказ', 'Выполнил первый заказ', 'orders_completed', 1, 2),
    ('orders_10', 'Десять заказов', 'Выполнил 10 заказов', 'orders_completed', 10, 3),
    ('five_stars', 'Пять звёзд', 'Получил первую оценку 5', 'five_star_reviews', 1, 4),
    ('likes_10', '10 лайков', 'Получил 10 лайков', 'likes_received', 10, 5),
    ('likes_100', '100 лайков', 'Получил 100 лайков', 'likes_received', 100, 6),
    ('subscribers_10', '10 подписчиков', 'На тебя подписались 10 человек', 'subscribers', 10, 7),
    ('subscribers_100', '100 подписчиков', 'На тебя подписались 100 человек', 'subscribers', 100, 8),
    ('commented_10', 'Обсуждаемый', 'Получил 10 комментариев', 'comments_received', 10, 9),
    ('points_1000', 'Тысяча очков', 'Набрал 1000 очков', 'points', 1000, 10);

CREATE TABLE user_achievements (
    user_id     BIGINT      NOT NULL,
    code        TEXT        NOT NULL REFERENCES achievements (code),
    unlocked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, code)
);
