//! ImageLocality: placeholder, being written (not yet upstream behaviour).
use crate::scheduler::framework::{Plugin, Point};
pub struct ImageLocality;
impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Score]
    }
}
