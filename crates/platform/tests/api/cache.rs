//! The read-through cache against the real Redis.

use platform::cache::JsonCache;

fn cache(ttl_secs: u64) -> JsonCache {
    let settings = platform::config::RedisSettings { key_prefix: testkit::unique_prefix(), ..Default::default() };
    JsonCache::new(platform::redis::pool(&settings).unwrap(), "test", ttl_secs)
}

#[tokio::test]
async fn values_are_cached_and_forgotten() {
    let cache = cache(60);
    assert_eq!(cache.get_or_load("a", async { Ok::<_, ()>(1) }).await, Ok(1));
    assert_eq!(cache.get_or_load("a", async { Ok::<_, ()>(2) }).await, Ok(1), "cached");
    cache.forget(["a"]).await;
    assert_eq!(cache.get_or_load("a", async { Ok::<_, ()>(3) }).await, Ok(3), "forgotten");
    assert_eq!(cache.get_or_load("b", async { Err::<i32, _>("down") }).await, Err("down"), "errors pass");
    let off = self::cache(0);
    assert_eq!(off.get_or_load("c", async { Ok::<_, ()>(1) }).await, Ok(1));
    assert_eq!(off.get_or_load("c", async { Ok::<_, ()>(2) }).await, Ok(2), "a TTL of 0 caches nothing");
}

#[tokio::test]
async fn a_value_loaded_before_a_change_is_not_put_back_after_it() {
    let cache = cache(60);
    // The reader loads the old value; meanwhile the change commits and its key is forgotten.
    let stale = cache
        .get_or_load("k", async {
            cache.forget(["k"]).await;
            Ok::<_, ()>("old".to_owned())
        })
        .await;
    assert_eq!(stale.as_deref(), Ok("old"), "the reader still answers what it read");
    let next = cache.get_or_load("k", async { Ok::<_, ()>("new".to_owned()) }).await;
    assert_eq!(next.as_deref(), Ok("new"), "the old value was not stored");
}
