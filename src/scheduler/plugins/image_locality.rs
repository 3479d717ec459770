//! ImageLocality (Score): favours nodes that already have the pod's
//! container images, weighting each image by its size and by how widely it
//! has spread across the cluster (to avoid piling pods onto the few nodes
//! that have an image, the "node heating problem").
//!
//! Follows kube-scheduler v1.35,
//! pkg/scheduler/framework/plugins/imagelocality/`image_locality.go`:
//! `sumImageScores` (init containers and containers), `scaledImageScore`
//! (size × numNodes / totalNodes, in float64, truncated), `calculatePriority`
//! (the sum clamped to [23 MiB, 1000 MiB × number of containers] and mapped
//! linearly, in integer arithmetic, onto 0..=MaxNodeScore). Image names are
//! normalized with [`normalized_image_name`] (`:latest` when untagged).
//!
//! Data: a node's images are `Node::images` (normalized name → size in
//! bytes); how many nodes have an image is `ClusterView::image_nodes`, and
//! the total is the number of present nodes (upstream: the snapshot's
//! nodes).
//!
//! Deviations:
//! - Upstream's image size is the one its cache saw first for that image
//!   name across the cluster; kubesim uses the size the scored node reports
//!   (they differ only if nodes report different sizes for one image name).
//! - Image volumes (`spec.volumes[].image`) are not modelled.
//! - Where Go's float64→int64 conversion is implementation-defined (sizes
//!   beyond 2^63, or no nodes at all), kubesim saturates / scores 0.

use crate::model::node::normalized_image_name;
use crate::model::{Node, Pod};
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status, MAX_NODE_SCORE};

/// The plugin name.
pub const NAME: &str = "ImageLocality";

const MB: i64 = 1024 * 1024;
/// Upstream `minThreshold`: 23 MiB.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Upstream `maxContainerThreshold`: 1000 MiB per container.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The ImageLocality plugin.
pub struct ImageLocality;

/// Upstream `calculatePriority`: `sum_scores` clamped to
/// [MIN_THRESHOLD, MAX_CONTAINER_THRESHOLD × containers], scaled onto
/// 0..=MaxNodeScore with integer division.
pub fn calculate_priority(sum_scores: i64, num_containers: usize) -> i64 {
    let n = i64::try_from(num_containers).unwrap_or(i64::MAX);
    let max_threshold = MAX_CONTAINER_THRESHOLD.saturating_mul(n);
    let mut sum = sum_scores;
    if sum < MIN_THRESHOLD {
        sum = MIN_THRESHOLD;
    } else if sum > max_threshold {
        sum = max_threshold;
    }
    // max_threshold is a multiple of 1000 MiB, never MIN_THRESHOLD, so the
    // divisor is never 0 (with no containers it is -23 MiB and the result 0).
    let divisor = max_threshold.wrapping_sub(MIN_THRESHOLD);
    if divisor == 0 {
        return 0;
    }
    MAX_NODE_SCORE
        .wrapping_mul(sum.wrapping_sub(MIN_THRESHOLD))
        .wrapping_div(divisor)
}

/// Upstream `scaledImageScore`: `int64(float64(size) * spread)` with
/// `spread = float64(numNodes) / float64(totalNumNodes)`.
pub fn scaled_image_score(size: i64, num_nodes: u32, total_num_nodes: usize) -> i64 {
    if total_num_nodes == 0 {
        return 0;
    }
    let spread = f64::from(num_nodes) / total_num_nodes as f64;
    // Same float64 operations as upstream; `as` truncates toward zero like
    // Go's conversion (and saturates where Go's is implementation-defined).
    (size as f64 * spread) as i64
}

/// Upstream `sumImageScores`: over init containers then containers, the
/// scaled score of each image present on `node`.
pub fn sum_image_scores(pod: &Pod, node: &Node, view: &ClusterView) -> i64 {
    // A node without images scores nothing: skip normalizing the names.
    if node.images.is_empty() {
        return 0;
    }
    let total = view.present_nodes();
    pod.spec
        .init_containers
        .iter()
        .chain(pod.spec.containers.iter())
        .filter_map(|c| {
            let name = normalized_image_name(&c.image);
            node.images.get(name.as_ref()).map(|&size| {
                let num = view.image_nodes.get(name.as_ref()).copied().unwrap_or(0);
                scaled_image_score(size, num, total)
            })
        })
        .fold(0i64, i64::saturating_add)
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Score]
    }

    fn score(
        &self,
        _: &CycleState,
        pod: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Result<i64, Status> {
        let sum = sum_image_scores(pod, node, view);
        let containers = pod.spec.init_containers.len() + pod.spec.containers.len();
        Ok(calculate_priority(sum, containers))
    }

    /// When no node has any of the pod's images, every image's spread is
    /// 0, so every node's sum is 0 (`scaledImageScore` multiplies by the
    /// spread) and every node scores `calculatePriority(0, …)`.
    fn uniform_score(&self, _: &CycleState, pod: &Pod, view: &ClusterView) -> Option<i64> {
        let on_some_node = pod
            .spec
            .init_containers
            .iter()
            .chain(pod.spec.containers.iter())
            .any(|c| {
                let name = normalized_image_name(&c.image);
                view.image_nodes.get(name.as_ref()).is_some_and(|&n| n > 0)
            });
        if on_some_node {
            return None;
        }
        let containers = pod.spec.init_containers.len() + pod.spec.containers.len();
        Some(calculate_priority(0, containers))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::scheduler::plugins::node_resources_fit::testutil::*;

    /// A node with images (name, size in MiB); names are upstream's
    /// `Names` lists, every one of which maps to the image.
    fn image_node(name: &str, images: &[(&[&str], i64)]) -> Node {
        let mut n = node(name, &[]);
        for (names, size) in images {
            for nm in *names {
                n.images.insert(nm.to_string(), size * MB);
            }
        }
        n
    }

    fn image_pod(containers: &[&str], init: &[&str]) -> Pod {
        let cs: Vec<Req> = containers.iter().map(|_| &[][..]).collect();
        let is: Vec<Req> = init.iter().map(|_| &[][..]).collect();
        pod_full(&cs, &is, false, &[], (containers, init))
    }

    fn scores(p: &Pod, nodes: &[Node]) -> Vec<i64> {
        let mut image_nodes: BTreeMap<String, u32> = BTreeMap::new();
        for n in nodes {
            for img in n.images.keys() {
                *image_nodes.entry(img.clone()).or_insert(0) += 1;
            }
        }
        with_view(nodes, &image_nodes, |view, _| {
            let st = CycleState::default();
            let v: Vec<i64> = nodes
                .iter()
                .map(|n| ImageLocality.score(&st, p, n, view).expect("score"))
                .collect();
            // The shortcut, when it applies, agrees with every node.
            if let Some(u) = ImageLocality.uniform_score(&st, p, view) {
                assert!(v.iter().all(|x| *x == u), "uniform {u} vs {v:?}");
            }
            v
        })
    }

    /// The uniform shortcut applies exactly when no node has any of the
    /// pod's images (init containers included).
    #[test]
    fn uniform_score_only_when_no_node_has_the_images() {
        let nodes = vec![
            image_node("node1", &[(&["gcr.io/40:latest"], 40)]),
            image_node("node2", &[]),
        ];
        let mut image_nodes: BTreeMap<String, u32> = BTreeMap::new();
        image_nodes.insert("gcr.io/40:latest".into(), 1);
        let st = CycleState::default();
        let absent = image_pod(&["gcr.io/250"], &[]);
        let present = image_pod(&["gcr.io/250"], &["gcr.io/40"]);
        with_view(&nodes, &image_nodes, |view, _| {
            assert_eq!(ImageLocality.uniform_score(&st, &absent, view), Some(0));
            assert_eq!(ImageLocality.uniform_score(&st, &present, view), None);
        });
        assert_eq!(scores(&absent, &nodes), vec![0, 0]);
        assert_eq!(scores(&present, &nodes)[1], 0);
    }

    /// Upstream image_locality_test.go `TestImageLocalityPriority` (7 of 7 rows).
    #[test]
    fn image_locality_priority() {
        let node_40_300_2000 = |n| {
            image_node(
                n,
                &[
                    (&["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
                    (&["gcr.io/300:latest", "gcr.io/300:v1"], 300),
                    (&["gcr.io/2000:latest"], 2000),
                ],
            )
        };
        let node_250_10 = |n| {
            image_node(
                n,
                &[
                    (&["gcr.io/250:latest"], 250),
                    (&["gcr.io/10:latest", "gcr.io/10:v1"], 10),
                ],
            )
        };
        let node_600_40_900 = |n| {
            image_node(
                n,
                &[
                    (&["gcr.io/600:latest"], 600),
                    (&["gcr.io/40:latest"], 40),
                    (&["gcr.io/900:latest"], 900),
                ],
            )
        };
        let node_300_600_900 = |n| {
            image_node(
                n,
                &[
                    (&["gcr.io/300:latest"], 300),
                    (&["gcr.io/600:latest"], 600),
                    (&["gcr.io/900:latest"], 900),
                ],
            )
        };
        let node_4000_30 = |n| {
            image_node(
                n,
                &[(&["gcr.io/4000:latest"], 4000), (&["gcr.io/30:latest"], 30)],
            )
        };
        let node_20_30_40 = |n| {
            image_node(
                n,
                &[
                    (&["gcr.io/20:latest"], 20),
                    (&["gcr.io/30:latest"], 30),
                    (&["gcr.io/40:latest"], 40),
                ],
            )
        };
        let no_images = |n| image_node(n, &[]);

        let test_40_250 = image_pod(&["gcr.io/40", "gcr.io/250"], &[]);
        let test_40_300 = image_pod(&["gcr.io/40", "gcr.io/300"], &[]);
        let test_min_max = image_pod(&["gcr.io/10", "gcr.io/4000"], &[]);
        let test_300_600_900 = image_pod(&["gcr.io/300", "gcr.io/600", "gcr.io/900"], &[]);
        let test_30_40 = image_pod(&["gcr.io/30", "gcr.io/40"], &[]);
        let test_30_init_300 = image_pod(&["gcr.io/30"], &["gcr.io/300"]);

        let cases: [(&str, &Pod, Vec<Node>, Vec<i64>); 7] = [
            (
                "two images spread on two nodes, prefer the larger image one",
                &test_40_250,
                vec![node_40_300_2000("node1"), node_250_10("node2")],
                vec![0, 5],
            ),
            (
                "two images on one node, prefer this node",
                &test_40_300,
                vec![node_40_300_2000("node1"), node_250_10("node2")],
                vec![7, 0],
            ),
            (
                "if exceed limit, use limit",
                &test_min_max,
                vec![node_4000_30("node1"), node_250_10("node2")],
                vec![MAX_NODE_SCORE, 0],
            ),
            (
                "if exceed limit, use limit (with node which has no images present)",
                &test_min_max,
                vec![node_4000_30("node1"), node_250_10("node2"), no_images("node3")],
                vec![66, 0, 0],
            ),
            (
                "pod with multiple large images, node2 is preferred",
                &test_300_600_900,
                vec![node_600_40_900("node1"), node_300_600_900("node2"), no_images("node3")],
                vec![32, 36, 0],
            ),
            (
                "pod with multiple small images",
                &test_30_40,
                vec![node_20_30_40("node1"), node_4000_30("node2")],
                vec![1, 0],
            ),
            (
                "include InitContainers: two images spread on two nodes, prefer the larger image one",
                &test_30_init_300,
                vec![node_40_300_2000("node1"), node_20_30_40("node2")],
                vec![6, 0],
            ),
        ];
        for (name, p, nodes, want) in cases {
            assert_eq!(scores(p, &nodes), want, "{name}");
        }
    }

    /// Upstream `TestNormalizedImageName` (4 of 4 rows), through the
    /// model's normalizer.
    #[test]
    fn normalized_image_names() {
        let digest = "sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2";
        let digested = format!("root@{digest}");
        let cases = [
            ("root", "root:latest"),
            ("gcr.io:5000/root", "gcr.io:5000/root:latest"),
            ("root:tag", "root:tag"),
            (digested.as_str(), digested.as_str()),
        ];
        for (input, want) in cases {
            assert_eq!(normalized_image_name(input), want, "{input}");
        }
    }

    #[test]
    fn priority_edges_do_not_panic() {
        assert_eq!(calculate_priority(0, 0), 0);
        assert_eq!(calculate_priority(i64::MAX, 1), MAX_NODE_SCORE);
        assert_eq!(calculate_priority(i64::MIN, 1), 0);
        let _ = calculate_priority(i64::MAX, usize::MAX);
        assert_eq!(scaled_image_score(100, 1, 0), 0);
        assert_eq!(scaled_image_score(100, 1, 2), 50);
        let _ = scaled_image_score(i64::MAX, u32::MAX, 1);
        // A pod without containers scores 0.
        let nodes = vec![image_node("n", &[(&["gcr.io/x:latest"], 100)])];
        assert_eq!(scores(&image_pod(&[], &[]), &nodes), vec![0]);
    }
}
