import '../shared/fonts';
import '../shared/app.css';
import { mount } from 'svelte';
import { appBackend } from '../backend';
import App from './App.svelte';
import { app } from './state.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
mount(App, { target });
void appBackend().then((backend) => app.start(backend));
