//! Integration tests: a real simulator on 127.0.0.1:0, driven over HTTP with reqwest.
//! One test binary (modules below) keeps linking time down.

mod common;
mod control;
mod reads;
mod seed;
mod webhooks;
mod writes;
