//! HTTP integration tests: each test starts the real server (port 0) on its own copy of a
//! database and talks to it over HTTP, as a client would. Expected answers come from SQLite
//! itself, through plain SQL written independently of Rowbase's renderer.

#![allow(clippy::unwrap_used)]

mod access;
mod audit;
mod behaviour;
mod bounds;
mod browser;
mod common;
mod concurrency;
mod declared;
mod embedding;
mod errors;
mod filters;
mod hostile;
mod instants;
mod ledger;
mod my;
mod mysql;
mod pg;
mod postgres;
mod readme;
mod reads;
mod rental;
mod search;
mod settings;
mod smtp;
mod soft_delete;
mod steps;
mod timestamps;
mod tokens;
mod users;
mod views;
mod writes;
