import '../shared/fonts';
import '../shared/app.css';
import { mount } from 'svelte';
import { dashboardBackend } from '../backend';
import { locale } from '../i18n/locale.svelte';
import Dashboard from './Dashboard.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
locale.set(navigator.language.split('-')[0] === 'ar' ? 'ar' : 'en');
void dashboardBackend().then((backend) => mount(Dashboard, { target, props: { backend } }));
