// Loaded in <head> without defer (an inline script would break the CSP): styles that depend on
// JavaScript (the phone menu, folded filters) apply from the first paint, without a flash.
document.documentElement.classList.add("js");
