from streams.simulator import data


def test_posts_are_deterministic_per_seed():
    a = data.post_json(7, "python", 3, anchor=1e9, gap=60, now=1e9 + 3600)
    b = data.post_json(7, "python", 3, anchor=1e9, gap=60, now=1e9 + 3600)
    c = data.post_json(8, "python", 3, anchor=1e9, gap=60, now=1e9 + 3600)
    assert a == b and a["id"] != c["id"]


def test_ids_are_base36_and_unique_across_subreddits():
    ids = {data.post_id(42, s, k) for s in ("python", "rust", "golang") for k in range(-200, 200)}
    assert len(ids) == 1200
    assert all(len(i) <= 13 and i.isalnum() and i == i.lower() for i in ids)


def test_scores_grow_over_the_first_day_and_are_heavy_tailed():
    k, anchor, gap = 5, 1e9, 60
    created = data.post_json(1, "python", k, anchor, gap, now=anchor)["created_utc"]
    scores = [data.post_json(1, "python", k, anchor, gap, now=created + h * 3600)["score"] for h in (0.1, 1, 4, 24)]
    assert scores == sorted(scores)
    finals = sorted(data.traits(1, "python", i).final_score for i in range(2000))
    assert finals[-1] > 20 * finals[len(finals) // 2]  # the top post dwarfs the median


def test_titles_vary_in_sentiment():
    titles = {data.traits(1, "python", i).title for i in range(200)}
    assert any("love" in t or "amazing" in t or "Great" in t for t in titles)
    assert any("hate" in t or "terrible" in t or "Worst" in t for t in titles)


def test_created_times_increase_with_index():
    times = [data.created_utc(1e9, 60, k, data.traits(1, "python", k).jitter) for k in range(-50, 50)]
    assert times == sorted(times)


def test_comments_arrive_along_the_posts_curve_in_reddits_shape():
    from streams.simulator.data import comment_count, comment_json, comment_offsets

    anchor, gap = 1_800_000_000.0, 60.0
    ks = [k for k in range(200) if comment_count(7, "python", k) >= 5][:20]
    assert ks
    for k in ks:
        offsets = comment_offsets(7, "python", k)
        assert list(offsets) == sorted(offsets) and offsets[0] > 0  # later comments, later
        comments = [comment_json(7, "python", k, j, anchor, gap) for j in range(len(offsets))]
        assert comments == [comment_json(7, "python", k, j, anchor, gap) for j in range(len(offsets))]  # deterministic
        post = data.post_json(7, "python", k, anchor, gap, anchor)
        ids = [c["id"] for c in comments]
        assert len(set(ids)) == len(ids)
        for j, c in enumerate(comments):
            assert c["name"] == f"t1_{c['id']}" and c["link_id"] == f"t3_{post['id']}"
            assert c["parent_id"] == post["name"] or c["parent_id"][3:] in ids[:j]  # the post or an earlier comment
            assert c["created_utc"] > post["created_utc"]
            if c["body"] in ("[deleted]", "[removed]"):
                assert c["author"] == "[deleted]"
    every = [comment_json(7, "python", k, j, anchor, gap) for k in ks for j in range(comment_count(7, "python", k))]
    assert {c["body"] for c in every} >= {"[deleted]", "[removed]"}
