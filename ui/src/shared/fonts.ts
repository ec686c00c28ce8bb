// Fonts bundled offline (no CDN): Latin/Cyrillic/Greek, Arabic script (Naskh; Nastaliq
// for Urdu) and Ethiopic (Tigrinya, Amharic). Each CSS file declares unicode ranges,
// so the webview only loads the files a page needs.
import '@fontsource/noto-sans/400.css';
import '@fontsource/noto-sans/600.css';
import '@fontsource/noto-naskh-arabic/400.css';
import '@fontsource/noto-naskh-arabic/600.css';
import '@fontsource/noto-nastaliq-urdu/400.css';
import '@fontsource/noto-sans-ethiopic/400.css';
import '@fontsource/noto-sans-ethiopic/600.css';
