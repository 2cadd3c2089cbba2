//! The feed, search, a video's details and edits: who sees what, in which order, with
//! counters that are current even when the page comes from the cache.

use crate::helpers::{User, VideoSpec, World, error_code};
use contracts::Envelope;
use contracts::events::{SubscriptionCreated, UserBlocked, UserUnblocked};
use serde_json::json;
use std::time::Duration;
use testkit::eventually;

fn follow(follower: &User, followee: &User) -> Envelope {
    Envelope::new("auth", followee.id, SubscriptionCreated { follower_id: follower.id, followee_id: followee.id })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processed_video_reaches_followers_and_never_people_blocked_either_way() {
    let world = World::start().await;
    let (master, fan, troll, stranger) = (world.user(), world.user(), world.user(), world.user());
    let file = world.video(VideoSpec { audio: false, seconds: 1, ..Default::default() });
    let (status, body) = world.upload(&master, &file, &[("title", "Кухня из дуба"), ("hashtags", "#кухня")]).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // (A page key of its own: pages are cached, and this one is empty for the next minutes.)
    assert!(world.feed_ids(None, "limit=7").await.is_empty(), "not ready: not in the feed");
    assert_eq!(world.processed(&master, id).await["status"], "ready");

    world.publish(follow(&fan, &master)).await;
    world.publish(follow(&troll, &master)).await;
    world.publish(Envelope::new("auth", master.id, UserBlocked { blocker_id: master.id, blocked_id: troll.id })).await;
    eventually("the follow reaches the following feed", Duration::from_secs(30), || async {
        world.feed_ids(Some(&fan), "following=true").await == [id]
    })
    .await;
    eventually("the block hides the video from the blocked one", Duration::from_secs(30), || async {
        world.feed_ids(Some(&troll), "").await.is_empty()
    })
    .await;
    assert!(world.feed_ids(Some(&troll), "following=true").await.is_empty());
    assert_eq!(world.api.get(&format!("/api/v2/videos/{id}"), &troll.token).await.0, 404);
    assert!(world.feed_ids(Some(&stranger), "following=true").await.is_empty(), "follows nobody");
    assert_eq!(world.feed_ids(Some(&stranger), "hashtag=%23Кухня").await, [id]);
    assert_eq!(world.feed_ids(None, "").await, [id]);

    // A block the other way hides the blocker's own feed too; unblocking shows it again.
    world.publish(Envelope::new("auth", fan.id, UserBlocked { blocker_id: fan.id, blocked_id: master.id })).await;
    eventually("the blocker no longer sees the blocked", Duration::from_secs(30), || async {
        world.feed_ids(Some(&fan), "").await.is_empty()
    })
    .await;
    world.publish(Envelope::new("auth", fan.id, UserUnblocked { blocker_id: fan.id, blocked_id: master.id })).await;
    eventually("unblocked", Duration::from_secs(30), || async { world.feed_ids(Some(&fan), "").await == [id] }).await;

    // The page above is cached; its counters are not.
    let (status, _) = world.api.post_as(&format!("/api/v2/videos/{id}/like"), &stranger.token, json!({})).await;
    assert_eq!(status, 200);
    let (_, page) = world.api.get_public("/api/v2/videos/feed").await;
    assert_eq!(page["items"][0]["likes_count"], 1, "{page}");
    // A deleted video leaves cached pages at once.
    assert_eq!(world.api.delete(&format!("/api/v2/videos/{id}"), &master.token).await.0, 204);
    assert!(world.feed_ids(None, "").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_filters_and_cursors() {
    let world = World::start_with(|config| config.media.feed_cache_secs = 0).await;
    let (master, other) = (world.user(), world.user());
    let mut mine = Vec::new();
    for n in 0..25 {
        let tags: &[&str] = if n % 5 == 0 { &["шкаф", "мебель"] } else { &["мебель"] };
        let price = (n % 2 == 0).then_some(100_000 + n);
        mine.push(world.ready_video(&master, &format!("Видео {n}"), tags, price).await);
    }
    let theirs = world.ready_video(&other, "Диван", &["диван"], None).await;

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = world.api.get_public(&format!("/api/v2/videos/feed?limit=10&cursor={cursor}")).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["items"].as_array().unwrap().iter().map(|v| v["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let mut newest_first: Vec<i64> = mine.iter().copied().chain([theirs]).collect();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "every video once, newest first");

    let by_master = world.feed_ids(None, &format!("user_id={}&limit=100", master.id)).await;
    assert_eq!(by_master.len(), 25);
    assert_eq!(world.feed_ids(None, "hashtag=шкаф&limit=100").await.len(), 5);
    assert_eq!(world.feed_ids(None, "products=true&limit=100").await.len(), 13);
    assert_eq!(world.feed_ids(None, "hashtag=%23ШКАФ&products=true&limit=100").await.len(), 3);

    for (query, status, code) in [
        ("following=true", 401, "unauthorized"),
        ("hashtag=%23a%20%23b", 400, "validation_failed"),
        ("hashtag=a;b", 400, "validation_failed"),
        ("user_id=0", 400, "validation_failed"),
        ("cursor=zzz", 400, "invalid_cursor"),
        ("limit=1000", 400, "validation_failed"),
        ("products=maybe", 400, ""),
    ] {
        let (got, body) = world.api.get_public(&format!("/api/v2/videos/feed?{query}")).await;
        assert_eq!(got, status, "{query}: {body}");
        if !code.is_empty() {
            assert_eq!(error_code(&body), code, "{query}: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_russian_and_kazakh_words_hashtags_and_typos() {
    let world = World::start().await;
    let master = world.user();
    let wardrobe = world.ready_video(&master, "Шкаф-купе из массива дуба", &["шкаф"], None).await;
    let kitchen = world.ready_video(&master, "Ас үй жиһазы", &["асүй"], None).await;
    let sofa = world.ready_video(&master, "Угловой диван", &["мебель"], Some(5_000_000)).await;
    let search = |q: &'static str| {
        let world = &world;
        async move {
            let (status, page) = world.api.get_public(&format!("/api/v2/search/videos?q={q}")).await;
            assert_eq!(status, 200, "{q}: {page}");
            page["items"].as_array().unwrap().iter().map(|v| v["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("шкафы").await, [wardrobe], "a stem");
    assert_eq!(search("массив").await, [wardrobe], "a prefix");
    assert_eq!(search("жиһаз").await, [kitchen], "Kazakh");
    assert_eq!(search("%23мебель").await, [sofa], "a hashtag");
    assert_eq!(search("дивн").await, [sofa], "a typo");
    assert!(search("холодильник").await.is_empty());
    assert_eq!(search("").await.len(), 3, "no words: newest first");
    let long = "я".repeat(201);
    let (status, body) = world.api.get_public(&format!("/api/v2/search/videos?q={long}")).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_edits_and_details_follow_the_edit() {
    let world = World::start().await;
    let (master, other) = (world.user(), world.user());
    let id = world.ready_video(&master, "Шкаф", &["шкаф"], Some(100)).await;
    assert_eq!(world.video_of(&other, id).await["title"], "Шкаф", "cached now");

    let path = format!("/api/v2/videos/{id}");
    let (status, body) = world.api.patch(&path, &other.token, json!({ "title": "Чужое" })).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    for bad in
        [json!({ "title": " " }), json!({ "price_minor": -5 }), json!({ "hashtags": "#a;b" }), json!({ "status": "x" })]
    {
        let (status, body) = world.api.patch(&path, &master.token, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {status} {body}");
    }
    assert_eq!(world.video_of(&other, id).await["title"], "Шкаф", "nothing changed");

    let edit = json!({ "title": "Шкаф-купе", "hashtags": "#Шкаф #Купе", "price_minor": null, "is_ad": true });
    let (status, body) = world.api.patch(&path, &master.token, edit).await;
    assert_eq!(status, 200, "{body}");
    let seen = world.video_of(&other, id).await;
    assert_eq!((seen["title"].as_str(), seen["hashtags"].clone()), (Some("Шкаф-купе"), json!(["шкаф", "купе"])));
    assert_eq!(
        (seen["price_minor"].clone(), seen["is_product"].clone(), seen["is_ad"].clone()),
        (json!(null), json!(false), json!(true))
    );
    assert_eq!(world.feed_ids(None, "hashtag=купе").await, [id]);
    let (status, _) = world.api.delete(&path, &other.token).await;
    assert_eq!(status, 404);
    assert_eq!(world.count("videos").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_likers_are_counted_exactly() {
    let world = World::start().await;
    let master = world.user();
    let id = world.ready_video(&master, "Диван", &[], None).await;
    let likers: Vec<User> = (0..200).map(|_| world.user()).collect();
    // A request the pool could not serve in time (503, nothing changed) is sent again, as a
    // client would: only 200s and those refusals are acceptable answers.
    let like = |user: &User, action: &'static str| {
        let url = world.api.url(&format!("/api/v2/videos/{id}/{action}"));
        let (api, token) = (&world.api, user.token.clone());
        async move {
            for _ in 0..10 {
                let (status, body) = api.send(api.client.post(&url).bearer_auth(&token)).await;
                match status {
                    503 => tokio::time::sleep(Duration::from_millis(100)).await,
                    _ => return (status, body),
                }
            }
            panic!("{url}: refused ten times")
        }
    };
    // Everyone likes twice at once, then half take it back twice at once.
    let results = futures_util::future::join_all(likers.iter().chain(&likers).map(|u| like(u, "like"))).await;
    assert!(results.iter().all(|(status, _)| *status == 200), "{:?}", results.iter().find(|r| r.0 != 200));
    assert_eq!(world.video_of(&master, id).await["likes_count"], 200);
    let results =
        futures_util::future::join_all(likers[..100].iter().chain(&likers[..100]).map(|u| like(u, "unlike"))).await;
    assert!(results.iter().all(|(status, _)| *status == 200));
    assert_eq!(world.video_of(&master, id).await["likes_count"], 100);
    assert_eq!(world.count("video_likes").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_deleted_by_their_author_or_the_owner_and_blocked_authors_are_hidden() {
    let world = World::start().await;
    let (master, fan, troll) = (world.user(), world.user(), world.user());
    let id = world.ready_video(&master, "Стол", &[], None).await;
    let mut comments = Vec::new();
    for (user, text) in [(&fan, "Сколько стоит?"), (&troll, "Плохо"), (&fan, "Спасибо")] {
        let (status, body) =
            world.api.post_as(&format!("/api/v2/videos/{id}/comments"), &user.token, json!({ "text": text })).await;
        assert_eq!(status, 201, "{body}");
        comments.push(body["id"].as_i64().unwrap());
    }
    world.publish(Envelope::new("auth", fan.id, UserBlocked { blocker_id: fan.id, blocked_id: troll.id })).await;
    let texts = |user: &'static str| {
        let world = &world;
        let token = match user {
            "fan" => Some(fan.token.clone()),
            _ => None,
        };
        async move {
            let path = format!("/api/v2/videos/{id}/comments");
            let (_, page) = match token {
                Some(token) => world.api.get(&path, &token).await,
                None => world.api.get_public(&path).await,
            };
            page["items"].as_array().unwrap().iter().map(|c| c["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    eventually("the troll's comment is hidden from the fan", Duration::from_secs(30), || async {
        texts("fan").await == ["Спасибо", "Сколько стоит?"]
    })
    .await;
    assert_eq!(texts("anyone").await.len(), 3);

    let path = |comment: i64| format!("/api/v2/videos/{id}/comments/{comment}");
    let (status, body) = world.api.delete(&path(comments[0]), &troll.token).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    assert_eq!(world.api.delete(&path(comments[0]), &fan.token).await.0, 204, "its author");
    assert_eq!(world.api.delete(&path(comments[1]), &master.token).await.0, 204, "the video's owner");
    assert_eq!(world.api.delete(&path(comments[1]), &master.token).await.0, 404, "already gone");
    assert_eq!(
        world.api.delete(&format!("/api/v2/videos/{}/comments/{}", id + 1, comments[2]), &fan.token).await.0,
        404
    );
    assert_eq!(texts("anyone").await, ["Спасибо"]);
    assert_eq!(world.video_of(&master, id).await["comments_count"], 1);
}
