//! Container usage models (defined with the object model in
//! [`crate::model::usage`], run by the node model here).

pub use crate::model::usage::*;
