//! `#[napi]` for bindings-node: napi-derive's attribute, with the body of every exported
//! function, method, constructor and getter run inside the binding's one panic boundary,
//! `crate::error::guard(&env, || body)`.
//!
//! A panic then surfaces the one way the binding documents (a JS `Error` with `code`
//! `INTERNAL_PANIC`, `status` 500 and the core's message), never as napi-rs's own
//! `catch_unwind` error (code `GenericFailure`, the panic's text), which stays in place
//! underneath for the argument conversions napi-rs runs itself.
//!
//! The rewrite is mechanical: a function that returns `T` (not a `Result`) returns
//! `napi::Result<T>` (same JS signature); one that has no `Env` parameter gets a hidden
//! one (napi-rs injects it, so the JS arity is unchanged). Items that are not functions
//! (`#[napi(object)]` structs, enums, consts) pass through untouched.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{ToTokens, quote};
use syn::{
    Attribute, Block, FnArg, ImplItem, Item, ReturnType, Signature, Type, parse_macro_input,
    parse_quote,
};

#[proc_macro_attribute]
pub fn napi(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr: Tokens = attr.into();
    let mut item = parse_macro_input!(item as Item);
    match &mut item {
        Item::Fn(f) => guard_fn(&mut f.sig, &mut f.block),
        Item::Impl(imp) => {
            for it in &mut imp.items {
                if let ImplItem::Fn(m) = it
                    && is_napi(&m.attrs)
                {
                    guard_fn(&mut m.sig, &mut m.block);
                }
            }
        }
        _ => {}
    }
    quote!(#[::napi_derive::napi(#attr)] #item).into()
}

fn is_napi(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("napi"))
}

fn is_env(ty: &Type) -> Option<bool> {
    match ty {
        Type::Path(p) => (p.qself.is_none()
            && p.path.segments.last().is_some_and(|s| s.ident == "Env"))
        .then_some(false),
        Type::Reference(r) => is_env(&r.elem).map(|_| true),
        _ => None,
    }
}

fn is_result(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Result"))
}

fn guard_fn(sig: &mut Signature, block: &mut Block) {
    if sig.asyncness.is_some() {
        return;
    }
    let env_arg = sig.inputs.iter().find_map(|a| match a {
        FnArg::Typed(pt) => is_env(&pt.ty).map(|by_ref| (pt.pat.to_token_stream(), by_ref)),
        FnArg::Receiver(_) => None,
    });
    let env_copy = match env_arg {
        Some((pat, true)) => quote!(*#pat),
        Some((pat, false)) => quote!(#pat),
        None => {
            sig.inputs.push(parse_quote!(__boundary_env: ::napi::Env));
            quote!(__boundary_env)
        }
    };
    let body = &block;
    let new_body: Block = match &sig.output {
        ReturnType::Type(_, ty) if is_result(ty) => parse_quote!({
            let __boundary_env: ::napi::Env = #env_copy;
            crate::error::guard(&__boundary_env, || #body)
        }),
        ReturnType::Type(arrow, ty) => {
            let ty = ty.clone();
            let new_body = parse_quote!({
                let __boundary_env: ::napi::Env = #env_copy;
                crate::error::guard(&__boundary_env, || ::napi::Result::Ok((|| -> #ty #body)()))
            });
            sig.output = ReturnType::Type(*arrow, parse_quote!(::napi::Result<#ty>));
            new_body
        }
        ReturnType::Default => {
            let new_body = parse_quote!({
                let __boundary_env: ::napi::Env = #env_copy;
                crate::error::guard(&__boundary_env, || ::napi::Result::Ok((|| #body)()))
            });
            sig.output = parse_quote!(-> ::napi::Result<()>);
            new_body
        }
    };
    *block = new_body;
}
