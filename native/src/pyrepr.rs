//! The CPython text rules the reference's output shows, kept so that documents read the same.

/// Python's `str()` of a float (its repr): the shortest digits that read back the same (as
/// ryu finds them), positional for decimal exponents -4..=15 (with `.0` when integral), else
/// `d[.ddd]e±XX`. None for NaN and the infinities, which JSON cannot hold.
pub fn py_float_str(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f);
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp_text) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let exp_part: i32 = exp_text.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int_part}{frac_part}");
    let lead = all.bytes().take_while(|&c| c == b'0').count();
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if lead == all.len() {
        out.push_str("0.0");
        return Some(out);
    }
    let digits = all[lead..].trim_end_matches('0');
    // The first significant digit's power of ten.
    let exp = int_part.len() as i32 - 1 - lead as i32 + exp_part;
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs()));
    }
    Some(out)
}
